// Package profile declares what a collection takes: definition files in
// YAML name the items (file items, by path pattern, and native items,
// collectors built in Go), and profiles select items and set their size
// caps. The definitions are embedded in the binary; a folder given with
// --definitions replaces embedded files of the same name and adds the
// others. docs/definitions.md specifies the schema and lists the
// embedded profiles.
//
// Native items name the collectors of collect's registry
// (collect.Natives); this package imports collect/natives, which links
// every family, so that Load knows them all. A native item without a
// description takes its collector's.
//
// Load reads and checks the definitions once; a Set is then read-only and
// safe for concurrent use. Build turns a profile into collectors for a
// collect.Runner.
package profile
