// Package layers holds no code: its test reads the import graph of every
// package of the module (go list, for Linux, Windows and macOS, test
// imports included) and fails on an import that goes against scelle's
// layers, naming the importer, the import and the rule:
//
//   - a package under internal/ imports nothing of scelle outside
//     internal/, except internal/acquire, the collection engine, which
//     wires collect, seal and chain together; only cmd/ imports it;
//   - seal imports neither collect nor chain;
//   - collect imports neither seal nor chain;
//   - chain does not import collect;
//   - only cmd/ imports github.com/spf13/cobra;
//   - nothing outside cmd/ imports cmd/.
//
// Each rule covers a package's sub-packages too. A new rule, or a new
// exception, is a line in layers_test.go, with its reason.
package layers
