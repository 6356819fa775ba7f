package extract

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/scelle/scelle/internal/names"
	"github.com/scelle/scelle/seal"
)

// Files Run writes beside DEST/evidence when names were changed.
const (
	// NameMapFile lists, one a line, each entry written under another
	// name: its archive path, a tab, the path written (both relative to
	// DEST/evidence), after a header line.
	NameMapFile = "evidence-name-map.tsv"
	// MappedManifestFile is manifest-sha256.txt with the written names:
	// sha256sum -c reads it in DEST/evidence.
	MappedManifestFile = "manifest-sha256.mapped.txt"
)

// tree is where Run writes a bag: DEST, opened as an os.Root,
// so that each folder and file is made inside the open folder that holds
// it (a path may be longer than PATH_MAX) and nothing is written outside
// DEST. An entry's path is mapped for the system it is written for
// (package names); each one written under another name is listed in
// NameMapFile, written as a ".partial" file until finish.
type tree struct {
	dest   string
	root   *os.Root
	names  *names.Mapper // nil: the names are kept
	dir    string        // the folder last made, relative to DEST
	list   *os.File      // NameMapFile.partial, from the first name changed
	mapped int           // the entries written under another name
}

// openTree opens dest, an empty folder, to extract a bag into it
// with the names goos can create.
func openTree(dest, goos string) (*tree, error) {
	root, err := os.OpenRoot(dest)
	if err != nil {
		return nil, err
	}
	return &tree{dest: dest, root: root, names: names.NewMapper(goos)}, nil
}

// Close closes DEST and the list of names (left ".partial" unless finish
// has run).
func (t *tree) Close() error {
	if t.list != nil {
		t.list.Close()
	}
	return t.root.Close()
}

// written returns the path that the entry p is written at, relative to
// DEST (slash-separated).
func (t *tree) written(p string) string { return path.Join(seal.BagDir, t.names.Map(p)) }

// create writes r to a new file for the entry p, making its folders one
// at a time. It never follows or replaces an existing file, and removes
// the file when r ends with an error (the BagReader's finding that the
// entry differs from its journal line, or a damaged archive).
func (t *tree) create(p string, r io.Reader, buf []byte) error {
	w := t.written(p)
	if err := t.note(p, w); err != nil {
		return err
	}
	if dir := path.Dir(w); dir != t.dir {
		if err := t.root.MkdirAll(filepath.FromSlash(dir), 0o755); err != nil {
			return err
		}
		t.dir = dir
	}
	f, err := t.root.OpenFile(filepath.FromSlash(w), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.CopyBuffer(f, r, buf); err != nil {
		f.Close()
		t.root.Remove(filepath.FromSlash(w))
		return err
	}
	return f.Close()
}

// remove removes the file written for the entry p.
func (t *tree) remove(p string) error {
	return t.root.Remove(filepath.FromSlash(t.written(p)))
}

// note lists the entry p in NameMapFile when it is written at w under
// another name.
func (t *tree) note(p, w string) error {
	rel := w[len(seal.BagDir)+1:]
	if rel == p {
		return nil
	}
	if t.list == nil {
		f, err := t.root.OpenFile(NameMapFile+seal.PartialSuffix, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		t.list = f
		if _, err := io.WriteString(f, "archive_path\twritten_path\n"); err != nil {
			return err
		}
	}
	t.mapped++
	_, err := io.WriteString(t.list, p+"\t"+rel+"\n")
	return err
}

// finish, when names were changed, completes NameMapFile, writes
// MappedManifestFile from the manifest extracted, and says so in res.
func (t *tree) finish(res *Result) error {
	if t.list == nil {
		return nil
	}
	err := t.list.Sync()
	if cerr := t.list.Close(); err == nil {
		err = cerr
	}
	t.list = nil
	if err == nil {
		err = t.root.Rename(NameMapFile+seal.PartialSuffix, NameMapFile)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", NameMapFile, err)
	}
	res.Renamed, res.NameMap = t.mapped, filepath.Join(t.dest, NameMapFile)
	// A manifest that does not read (already a failed check) leaves the
	// files as they are: only this copy is not written.
	if err := t.mapManifest(); err != nil {
		res.MappedManifestErr = err
	} else {
		res.MappedManifest = filepath.Join(t.dest, MappedManifestFile)
	}
	return nil
}

// mapManifest writes MappedManifestFile: the lines of the manifest
// extracted, each with its path as written.
func (t *tree) mapManifest() error {
	in, err := t.root.Open(filepath.Join(seal.BagDir, seal.ManifestFile))
	if err != nil {
		return err
	}
	defer in.Close()
	partial := MappedManifestFile + seal.PartialSuffix
	out, err := t.root.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(out)
	err = seal.ReadManifest(in, func(sum [32]byte, p string) error {
		_, err := w.WriteString(seal.ManifestLine(sum, t.names.Map(p)))
		return err
	})
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.root.Remove(partial)
		return err
	}
	return t.root.Rename(partial, MappedManifestFile)
}
