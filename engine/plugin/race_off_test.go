//go:build !race

package plugin

var raceFlags []string
