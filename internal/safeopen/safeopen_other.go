//go:build !linux

package safeopen

import (
	"os"
	"path/filepath"
	"strings"
)

func openIn(root, path string) (*File, error) {
	name := path
	if root != "" {
		name = filepath.Join(root, filepath.FromSlash(strings.TrimLeft(path, "/")))
	}
	fi, err := os.Lstat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &os.PathError{Op: "open", Path: name, Err: ErrNotRegular}
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	if fi2, err := f.Stat(); err != nil || !fi2.Mode().IsRegular() || !os.SameFile(fi, fi2) {
		f.Close()
		return nil, &os.PathError{Op: "open", Path: name, Err: ErrNotRegular}
	}
	return &File{File: f}, nil
}

func openDir(root, rel string) (*os.File, error) {
	name := rel
	if root != "" && root != "/" {
		name = filepath.Join(root, filepath.FromSlash(strings.TrimLeft(rel, "/")))
	}
	fi, err := os.Lstat(name)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, &os.PathError{Op: "opendir", Path: name, Err: ErrNotRegular}
	}
	return os.Open(name)
}

func openParent(root, rel string) (*os.File, string, error) {
	dir, base := filepath.Split(filepath.Join(root, filepath.FromSlash(rel)))
	f, err := os.Open(dir)
	return f, base, err
}

func openAt(dir *os.File, name string) (*File, error) {
	full := filepath.Join(dir.Name(), name)
	if !oneName(name) {
		return nil, &os.PathError{Op: "open", Path: full, Err: ErrNotName}
	}
	return openIn("", full)
}

func openDirAt(dir *os.File, name string) (*os.File, error) {
	full := filepath.Join(dir.Name(), name)
	if !oneName(name) {
		return nil, &os.PathError{Op: "opendir", Path: full, Err: ErrNotName}
	}
	return openDir("", full)
}
