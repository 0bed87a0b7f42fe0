// Package testscripts holds the project's end-to-end scripts (*.txtar in
// this folder), run by its test with testscript and kgen registered as a
// command. Set KGEN_UPDATE=1 to rewrite the expected output in the scripts.
package testscripts
