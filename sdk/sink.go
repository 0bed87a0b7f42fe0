package sdk

import "errors"

// Sink takes the rows a rule produces.
type Sink interface {
	// Provision receives the rule action's properties as written in the rule.
	Provision(ctx Context, props map[string]any) error
	Connect(ctx Context) error
	// Collect takes one row. An error wrapped by Retryable is retried with
	// backoff; any other error is counted, logged and the row dropped.
	Collect(ctx Context, row map[string]any) error
	// CollectList takes the rows of one result set (for example a window).
	CollectList(ctx Context, rows []map[string]any) error
	Close(ctx Context) error
}

// ErrRetryable marks an error the engine should retry. Test with
// errors.Is(err, ErrRetryable) or IsRetryable.
var ErrRetryable = errors.New("retryable")

type retryableError struct{ err error }

func (e retryableError) Error() string { return e.err.Error() }
func (e retryableError) Unwrap() []error {
	return []error{e.err, ErrRetryable}
}

// Retryable marks err as worth retrying (a connection dropped, a server
// busy). It returns nil for a nil err.
func Retryable(err error) error {
	if err == nil {
		return nil
	}
	return retryableError{err}
}

// IsRetryable reports whether err was marked with Retryable.
func IsRetryable(err error) bool { return errors.Is(err, ErrRetryable) }
