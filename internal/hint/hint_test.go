package hint

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

func TestWrap(t *testing.T) {
	if Wrap(nil, "x") != nil {
		t.Fatal("Wrap(nil) is not nil")
	}
	err := fmt.Errorf("open bag: %w", Wrap(fs.ErrNotExist, "check %s", "the path"))
	if got := err.Error(); got != "open bag: file does not exist" {
		t.Errorf("Error() = %q: the hint must not be part of the message", got)
	}
	if got := Of(err); got != "check the path" {
		t.Errorf("Of = %q", got)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("the wrapped error is lost")
	}
	if Of(errors.New("plain")) != "" {
		t.Error("a plain error has a hint")
	}
}
