// Package natives links every native collector family into the binary:
// importing it runs the init function of each family package, which
// registers the family's collectors with collect.Register. It exports
// nothing; collect.Natives lists what it links.
//
// A new family (a package for another OS, another source) is one more
// import here.
package natives
