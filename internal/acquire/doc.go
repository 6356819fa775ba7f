// Package acquire runs a collection end to end: it plans the collectors
// of a profile, runs them most volatile first into a new bag (package
// seal), keeps the record's items on the output medium, writes the
// custody log's acquired and sealed events, quotes the TPM at start and
// sealing, seals, and reads the bag back to verify it and write its
// reports.
//
// It is the one place where collect, seal and chain meet, apart from the
// command: a library caller runs a collection with Run and follows it
// through the Progress callbacks. acquire never prints and never exits;
// the command connects the callbacks to a text or JSON printer.
//
// Run writes only under Options.Out: a folder <case>_<host>_<time>.partial
// renamed once sealed. Progress callbacks may be called from the
// collectors' goroutines, one at a time.
package acquire
