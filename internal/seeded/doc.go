// Package seeded holds the switches of the seeded bugs that production packages carry for
// the checkers to prove they catch them. Only this module can import it, so the switches
// are not part of any package's exported API: a production package installs a setter here
// in its init, and the simulator and tests call it.
package seeded
