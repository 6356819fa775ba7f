//go:build race

package seal

// raceEnabled: the race detector multiplies memory; the memory tests do
// not apply under it.
const raceEnabled = true
