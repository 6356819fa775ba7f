// Package visible shows strings from a host, a bag or a custody log as
// what they are: a character that could move the cursor, clear or
// rewrite a line, reverse the order of the text that follows, or hide
// itself is written as an escape, so that a file name can never forge a
// verdict or a fingerprint on the responder's screen or in a report.
//
// String is the one escaping every printer of scelle uses (the terminal,
// error messages, report.html and report.pdf), so that a name reads the
// same everywhere. It writes:
//
//	\\                a backslash
//	\t \n \r          tab, line feed, carriage return
//	\xHH              another C0 control or DEL, and each byte that is
//	                  not UTF-8 (0x80 to 0xff)
//	\uHHHH            a character up to U+FFFF that does not show as itself
//	\UHHHHHHHH        one above U+FFFF
//
// "Does not show as itself" is: a C1 control, a format character (the
// bidirectional controls U+202A-U+202E, U+2066-U+2069, U+200E, U+200F,
// U+061C; zero-width characters; U+FEFF ...), a line or paragraph
// separator, a space other than U+0020, a default-ignorable or variation
// selector (invisible filler), a private-use or unassigned code point.
// Every other character, letters of any script included, is kept as it
// is. The escaping is injective: each backslash in the output starts an
// escape, so two different strings never show the same, and a name that
// holds the six characters `\x1b[2K` shows as `\\x1b[2K`, not as an escape.
//
// JSON does the same for JSON text (encoding/json output), with JSON's own
// \u escapes: the value a JSON reader decodes is unchanged.
//
// The functions keep no state and are safe for concurrent use. The
// package imports nothing of scelle.
package visible
