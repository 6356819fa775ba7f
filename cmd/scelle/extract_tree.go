package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"

	"github.com/scelle/scelle/internal/names"
	"github.com/scelle/scelle/internal/visible"
	"github.com/scelle/scelle/seal"
)

// Files extract writes beside DEST/evidence when names were changed.
const (
	// nameMapFile lists, one a line, each entry written under another
	// name: its archive path, a tab, the path written (both relative to
	// DEST/evidence), after a header line.
	nameMapFile = "evidence-name-map.tsv"
	// mappedManifestFile is manifest-sha256.txt with the written names:
	// sha256sum -c reads it in DEST/evidence.
	mappedManifestFile = "manifest-sha256.mapped.txt"
)

// systemFlag is --names-for: the system whose names extract writes (a
// GOOS value), checked when the flag is read.
type systemFlag string

func (s *systemFlag) String() string { return string(*s) }
func (s *systemFlag) Type() string   { return "OS" }
func (s *systemFlag) Set(v string) error {
	if v != "linux" && v != runtime.GOOS && !names.Needs(v) {
		return fmt.Errorf("%q: want windows, darwin or linux", v)
	}
	*s = systemFlag(v)
	return nil
}

const namesForHelp = "write names as `OS` can create them: windows, darwin or linux (as they are); the names changed are listed in DEST/" + nameMapFile

// systemName is how extract names goos to the user.
func systemName(goos string) string {
	if goos == names.Darwin {
		return "macOS"
	}
	return map[string]string{names.Windows: "Windows"}[goos]
}

// extractTree is where extract writes a bag: DEST, opened as an os.Root,
// so that each folder and file is made inside the open folder that holds
// it (a path may be longer than PATH_MAX) and nothing is written outside
// DEST. An entry's path is mapped for the system it is written for
// (package names); each one written under another name is listed in
// nameMapFile, written as a ".partial" file until finish.
type extractTree struct {
	dest   string
	goos   string
	root   *os.Root
	names  *names.Mapper // nil: the names are kept
	dir    string        // the folder last made, relative to DEST
	list   *os.File      // nameMapFile.partial, from the first name changed
	mapped int           // the entries written under another name
}

// openExtractTree opens dest, an empty folder, to extract a bag into it
// with the names goos can create.
func openExtractTree(dest, goos string) (*extractTree, error) {
	root, err := os.OpenRoot(dest)
	if err != nil {
		return nil, err
	}
	return &extractTree{dest: dest, goos: goos, root: root, names: names.NewMapper(goos)}, nil
}

// Close closes DEST and the list of names (left ".partial" unless finish
// has run).
func (t *extractTree) Close() error {
	if t.list != nil {
		t.list.Close()
	}
	return t.root.Close()
}

// written returns the path that the entry p is written at, relative to
// DEST (slash-separated).
func (t *extractTree) written(p string) string { return path.Join(seal.BagDir, t.names.Map(p)) }

// create writes r to a new file for the entry p, making its folders one
// at a time. It never follows or replaces an existing file, and removes
// the file when r ends with an error (the BagReader's finding that the
// entry differs from its journal line, or a damaged archive).
func (t *extractTree) create(p string, r io.Reader, buf []byte) error {
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
func (t *extractTree) remove(p string) error {
	return t.root.Remove(filepath.FromSlash(t.written(p)))
}

// note lists the entry p in nameMapFile when it is written at w under
// another name.
func (t *extractTree) note(p, w string) error {
	rel := w[len(seal.BagDir)+1:]
	if rel == p {
		return nil
	}
	if t.list == nil {
		f, err := t.root.OpenFile(nameMapFile+seal.PartialSuffix, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
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

// finish, when names were changed, completes nameMapFile, writes
// mappedManifestFile from the manifest extracted, and says so on stdout.
func (t *extractTree) finish(stdout io.Writer) error {
	if t.list == nil {
		return nil
	}
	err := t.list.Sync()
	if cerr := t.list.Close(); err == nil {
		err = cerr
	}
	t.list = nil
	if err == nil {
		err = t.root.Rename(nameMapFile+seal.PartialSuffix, nameMapFile)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", nameMapFile, err)
	}
	fmt.Fprintf(stdout, "names:   %d files written under other names, as %s can create them: see %s\n",
		t.mapped, systemName(t.goos), visible.String(filepath.Join(t.dest, nameMapFile)))
	// A manifest that does not read (already a failed check) leaves the
	// files as they are: only this copy is not written.
	switch err := t.mapManifest(); {
	case errors.Is(err, os.ErrNotExist):
		fmt.Fprintf(stdout, "         no manifest extracted: %s not written\n", mappedManifestFile)
	case err != nil:
		fmt.Fprintf(stdout, "         %s not written: %s\n", mappedManifestFile, visible.String(err.Error()))
	default:
		fmt.Fprintf(stdout, "         sha256sum -c %s fails for them; in %s run: sha256sum -c ../%s\n",
			seal.ManifestFile, visible.String(filepath.Join(t.dest, seal.BagDir)), mappedManifestFile)
	}
	return nil
}

// mapManifest writes mappedManifestFile: the lines of the manifest
// extracted, each with its path as written.
func (t *extractTree) mapManifest() error {
	in, err := t.root.Open(filepath.Join(seal.BagDir, seal.ManifestFile))
	if err != nil {
		return err
	}
	defer in.Close()
	partial := mappedManifestFile + seal.PartialSuffix
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
	return t.root.Rename(partial, mappedManifestFile)
}
