//go:build race

package plugin

// raceFlags makes fixture plugins match a test binary built with -race.
var raceFlags = []string{"-race"}
