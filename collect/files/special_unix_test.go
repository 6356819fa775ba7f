//go:build unix

package files

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/scelle/scelle/collect"
)

// TestSpecialFiles: a FIFO does not hang and is recorded; a socket and a
// symlink are recorded, never opened; an unreadable file is failed.
func TestSpecialFiles(t *testing.T) {
	root := fixture(t, map[string]string{"d/plain": "hello", "d/secret": "s"})
	if err := syscall.Mkfifo(filepath.Join(root, "d/fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/shadow", filepath.Join(root, "d/link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(root, "d/secret"), 0); err != nil {
		t.Fatal(err)
	}
	sink, outs := run(t, root, &Tree{ID: "t", Vol: collect.ClassDisk, Patterns: []string{"/d"}})
	fifo, ok := status(outs, "/d/fifo")
	if !ok || fifo.Status != collect.Skipped || fifo.Kind != collect.KindFIFO {
		t.Errorf("fifo: %+v", fifo)
	}
	link, _ := status(outs, "/d/link")
	if link.Kind != collect.KindSymlink || link.LinkTarget != "/etc/shadow" || link.Path != "" {
		t.Errorf("link: %+v", link)
	}
	plain, _ := status(outs, "/d/plain")
	if plain.Status != collect.Collected || string(sink.Files["fs/d/plain"]) != "hello" ||
		plain.SHA256 != fmt.Sprintf("%x", sha256.Sum256([]byte("hello"))) || plain.Before == nil || plain.After == nil {
		t.Errorf("plain: %+v", plain)
	}
	if os.Geteuid() != 0 {
		secret, _ := status(outs, "/d/secret")
		if secret.Status != collect.Failed || !strings.Contains(secret.Reason, "permission denied") {
			t.Errorf("unreadable: %+v", secret)
		}
	}
}
