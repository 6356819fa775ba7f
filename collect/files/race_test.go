//go:build race

package files

// raceEnabled: the race detector multiplies memory and time; the memory
// bound test does not apply under it.
const raceEnabled = true
