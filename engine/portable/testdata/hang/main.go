// Command hang is a portable plugin that never finishes its start: it
// blocks before serving, as a plugin stuck in its init would.
package main

import "time"

func main() { time.Sleep(time.Hour) }
