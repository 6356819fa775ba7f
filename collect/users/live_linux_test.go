package users

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/scelle/scelle/collect"
)

// TestLiveUtmp parses this machine's /run/utmp, when it has one.
func TestLiveUtmp(t *testing.T) {
	f, err := os.Open(UtmpPath)
	if err != nil {
		t.Skipf("no %s here: %v", UtmpPath, err)
	}
	defer f.Close()
	head := make([]byte, DetectHeadSize)
	n, _ := io.ReadFull(f, head)
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	l := DetectUtmpLayout(head[:n], fi.Size())
	if l != NativeLayout() && fi.Size() > 0 {
		t.Errorf("layout %v, this machine writes %v", l, NativeLayout())
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	r := NewUtmpReader(bufio.NewReader(f), l)
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(rec.Type, "UNKNOWN") {
			t.Errorf("record at %d: type %s", rec.Offset, rec.Type)
		}
	}
}

// TestLiveHomes reads this machine's /etc/passwd.
func TestLiveHomes(t *testing.T) {
	accs, err := Homes(&collect.Env{Root: "/"})
	if err != nil {
		t.Skipf("no readable /etc/passwd: %v", err)
	}
	for _, a := range accs {
		if a.Name == "root" {
			if a.UID != 0 {
				t.Errorf("root has uid %d", a.UID)
			}
			return
		}
	}
	t.Error("no root account in /etc/passwd")
}
