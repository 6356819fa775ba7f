// Package hint attaches to an error a line that tells the user what to do
// about it. Engines return such errors; only the command's main prints
// them, once: "scelle: <error>" then "hint: <hint>".
package hint

import (
	"errors"
	"fmt"
)

// Error is an error with a hint for the user. Its Error method gives the
// error alone; Of gives the hint.
type Error struct {
	Err  error
	Hint string
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Wrap returns err with a hint made from format and args; nil stays nil.
func Wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &Error{Err: err, Hint: fmt.Sprintf(format, args...)}
}

// Of returns the hint of the outermost hinted error in err's chain, or "".
func Of(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Hint
	}
	return ""
}
