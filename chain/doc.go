// Package chain holds what makes a bag evidence in proceedings: the
// collection record (who collected what, where, when, with which tool,
// and how each planned item ended), the hash-linked custody log that every
// later holder signs, and the reports built from them.
//
// chain reads bags through package seal; it never imports collect.
package chain
