package engine_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/internal/testutil"
)

// The rest: block of etc/kgen.yaml is checked when the engine opens: an
// API listening beyond loopback without a token is refused, naming the
// setting, and so are half or unreadable settings.
func TestRESTConfig(t *testing.T) {
	t.Setenv(engine.TokenEnv, "")
	needToken := `rest.listen "%s" is not a loopback address, so the REST API needs a token: set rest.token or rest.tokenFile in etc/kgen.yaml, or $KGEN_REST_TOKEN (or listen on 127.0.0.1)`
	for _, tc := range []struct {
		name  string
		files map[string]string
		env   string
		err   string // after "<root>/etc/kgen.yaml: "; "" for success
		token string
	}{
		{"all-interfaces", map[string]string{"etc/kgen.yaml": "rest:\n  listen: 0.0.0.0:9081\n"}, "", strings.Replace(needToken, "%s", "0.0.0.0:9081", 1), ""},
		{"empty-host", map[string]string{"etc/kgen.yaml": "rest:\n  listen: :9081\n"}, "", strings.Replace(needToken, "%s", ":9081", 1), ""},
		{"lan-address", map[string]string{"etc/kgen.yaml": "rest:\n  listen: 192.168.1.10:9081\n"}, "", strings.Replace(needToken, "%s", "192.168.1.10:9081", 1), ""},
		{"all-interfaces-token", map[string]string{"etc/kgen.yaml": "rest:\n  listen: 0.0.0.0:9081\n  token: abc\n"}, "", "", "abc"},
		{"all-interfaces-env", map[string]string{"etc/kgen.yaml": "rest:\n  listen: 0.0.0.0:9081\n"}, "from-env", "", "from-env"},
		{"all-interfaces-token-file", map[string]string{"etc/kgen.yaml": "rest:\n  listen: 0.0.0.0:9081\n  tokenFile: etc/token\n", "etc/token": "s3cret\n"}, "", "", "s3cret"},
		{"env-over-conf", map[string]string{"etc/kgen.yaml": "rest:\n  token: conf\n"}, "env", "", "env"},
		{"loopback-no-token", map[string]string{"etc/kgen.yaml": "rest:\n  listen: localhost:9081\n"}, "", "", ""},
		{"bad-listen", map[string]string{"etc/kgen.yaml": "rest:\n  listen: 127.0.0.1\n"}, "", `rest.listen "127.0.0.1": want host:port`, ""},
		{"both", map[string]string{"etc/kgen.yaml": "rest:\n  token: a\n  tokenFile: etc/token\n", "etc/token": "b"}, "", "rest.token and rest.tokenFile are both set: set one", ""},
		{"empty-token-file", map[string]string{"etc/kgen.yaml": "rest:\n  tokenFile: etc/token\n", "etc/token": " \n"}, "", `rest.tokenFile "<root>/etc/token": the file is empty`, ""},
		{"missing-token-file", map[string]string{"etc/kgen.yaml": "rest:\n  tokenFile: etc/token\n"}, "", "rest.tokenFile: open <root>/etc/token: no such file or directory", ""},
		{"token-with-space", map[string]string{"etc/kgen.yaml": "rest:\n  token: \"a b\"\n"}, "", "rest.token: want printable ASCII without spaces", ""},
		{"tls-half", map[string]string{"etc/kgen.yaml": "rest:\n  tls:\n    certFile: etc/cert.pem\n"}, "", "rest.tls: set both certFile and keyFile, or neither", ""},
		{"tls-not-pem", map[string]string{"etc/kgen.yaml": "rest:\n  tls:\n    certFile: etc/cert.pem\n    keyFile: etc/key.pem\n", "etc/cert.pem": "no", "etc/key.pem": "no"}, "", "rest.tls: tls: failed to find any PEM data in certificate input", ""},
		{"bad-origin", map[string]string{"etc/kgen.yaml": "rest:\n  allowedOrigins: [dash.example]\n"}, "", `rest.allowedOrigins: "dash.example": want scheme://host[:port], such as https://dashboard.example.com`, ""},
		{"origin-with-path", map[string]string{"etc/kgen.yaml": "rest:\n  allowedOrigins: [\"https://dash.example/app\"]\n"}, "", `rest.allowedOrigins: "https://dash.example/app": want scheme://host[:port], such as https://dashboard.example.com`, ""},
		{"bad-host", map[string]string{"etc/kgen.yaml": "rest:\n  allowedHosts: [\"http://x\"]\n"}, "", `rest.allowedHosts: "http://x": want a host name or host:port`, ""},
		{"unknown-key", map[string]string{"etc/kgen.yaml": "rest:\n  tokn: a\n"}, "", "yaml: unmarshal errors:\n  line 2: field tokn not found in type engine.RESTConfig", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(engine.TokenEnv, tc.env)
			root := t.TempDir()
			testutil.WriteTree(t, root, tc.files)
			e, err := engine.Open(engine.Options{Root: root, NoRestore: true})
			if tc.err != "" {
				want := filepath.Join(root, "etc", "kgen.yaml") + ": " + strings.ReplaceAll(tc.err, "<root>", root)
				if err == nil {
					e.Close()
					t.Fatalf("opened, want %s", want)
				}
				if err.Error() != want {
					t.Fatalf("got  %s\nwant %s", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			if got := e.Config().REST.Token; got != tc.token {
				t.Errorf("token %q, want %q", got, tc.token)
			}
		})
	}
}
