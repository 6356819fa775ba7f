package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scelle/scelle/seal"
	"github.com/scelle/scelle/seal/sealtest"
)

// TestExtractNamesForWindows: names Windows cannot create are written
// under mapped names, listed in the name map; sha256sum -c of the mapped
// manifest passes where that of the manifest fails.
func TestExtractNamesForWindows(t *testing.T) {
	files := [][2]string{
		{"fs/CON", "con\n"}, {"fs/aux.txt", "aux\n"}, {"fs/a.", "dot\n"}, {"fs/b ", "space\n"},
		{"fs/x:y", "colon\n"}, {"fs/A.txt", "upper\n"}, {"fs/a.txt", "lower\n"},
		{"fs/D/1", "one\n"}, {"fs/d/2", "two\n"}, {"fs/ok", "ok\n"},
	}
	bag := sealtest.SealFiles(t, files)
	dest := filepath.Join(t.TempDir(), "x")
	var out strings.Builder
	if err := runExtract(bag, dest, nil, "windows", &out, io.Discard); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Log(out.String())
	tag := func(name string) string { return "%=" + sha256Hex(name)[:16] }
	want := map[string]string{ // archive path -> written path
		"data/fs/CON":      "data/fs/CO%4E",
		"data/fs/aux.txt":  "data/fs/au%78.txt",
		"data/fs/a.":       "data/fs/a%2E",
		"data/fs/x:y":      "data/fs/x%3Ay",
		"data/fs/a.txt":    "data/fs/a" + tag("a.txt") + ".txt",
		"data/fs/d/2":      "data/fs/d" + tag("d") + "/2",
		"data/fs/b^20":     "data/fs/b^20", // the bag's own encoding: no trailing space
		"data/fs/A.txt":    "data/fs/A.txt",
		"data/fs/D/1":      "data/fs/D/1",
		"data/fs/ok":       "data/fs/ok",
		seal.ManifestFile:  seal.ManifestFile,
		seal.BagRecordFile: seal.BagRecordFile,
	}
	content := map[string]string{}
	for _, f := range files {
		content["data/"+seal.EncodeName(f[0])] = f[1]
	}
	var wantList []string
	for a, w := range want {
		b, err := os.ReadFile(filepath.Join(dest, seal.BagDir, filepath.FromSlash(w)))
		if err != nil {
			t.Errorf("%s: %v", a, err)
		} else if c, ok := content[a]; ok && string(b) != c {
			t.Errorf("%s: %q, want %q", w, b, c)
		}
		if a != w {
			wantList = append(wantList, a+"\t"+w)
		}
	}
	list, err := os.ReadFile(filepath.Join(dest, nameMapFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(list), "\n"), "\n")
	if lines[0] != "archive_path\twritten_path" || !sameSet(lines[1:], wantList) {
		t.Errorf("%s:\n%s\nwant the lines:\n%s", nameMapFile, list, strings.Join(wantList, "\n"))
	}
	for _, s := range []string{"names:   6 files written under other names, as Windows can create them: see " + filepath.Join(dest, nameMapFile),
		"sha256sum -c manifest-sha256.txt fails for them; in " + filepath.Join(dest, seal.BagDir) + " run: sha256sum -c ../" + mappedManifestFile} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("no %q in\n%s", s, out.String())
		}
	}
	for _, f := range []string{nameMapFile, mappedManifestFile} {
		if _, err := os.Stat(filepath.Join(dest, f+seal.PartialSuffix)); !os.IsNotExist(err) {
			t.Errorf("%s%s left: %v", f, seal.PartialSuffix, err)
		}
	}

	check := func(manifest string) (string, error) {
		cmd := exec.Command("sha256sum", "--strict", "-c", manifest)
		cmd.Dir = filepath.Join(dest, seal.BagDir)
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	if b, err := check("../" + mappedManifestFile); err != nil {
		t.Errorf("sha256sum -c the mapped manifest: %v\n%s", err, b)
	} else if strings.Count(b, ": OK\n") != len(files) {
		t.Errorf("sha256sum -c the mapped manifest checked %d files, want %d:\n%s", strings.Count(b, ": OK\n"), len(files), b)
	}
	if b, err := check(seal.ManifestFile); err == nil || !strings.Contains(b, "data/fs/CON: FAILED open or read") {
		t.Errorf("sha256sum -c the manifest: %v\n%s", err, b)
	}
}

// On a bag whose names need no change, nothing is listed.
func TestExtractNamesForNothingToMap(t *testing.T) {
	bag := sealtest.SealFiles(t, [][2]string{{"fs/a", "a\n"}})
	for _, goos := range []string{"windows", "darwin", "linux"} {
		dest := filepath.Join(t.TempDir(), "x")
		var out strings.Builder
		if err := runExtract(bag, dest, nil, goos, &out, io.Discard); err != nil {
			t.Fatalf("%s: %v\n%s", goos, err, out.String())
		}
		if strings.Contains(out.String(), "names:") {
			t.Errorf("%s:\n%s", goos, out.String())
		}
		for _, f := range []string{nameMapFile, mappedManifestFile} {
			if _, err := os.Stat(filepath.Join(dest, f)); !os.IsNotExist(err) {
				t.Errorf("%s: %s: %v", goos, f, err)
			}
		}
	}
}

// --names-for takes a system whose names extract knows, and refuses
// another before anything is created.
func TestExtractNamesForFlag(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "x")
	c := newRootCmd()
	c.SetArgs([]string{"extract", "--names-for", "plan9", "nosuchbag", dest})
	c.SetOut(new(strings.Builder))
	c.SetErr(new(strings.Builder))
	if err := c.Execute(); err == nil || !strings.Contains(err.Error(), `"plan9": want windows, darwin or linux`) {
		t.Errorf("--names-for plan9: %v", err)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Errorf("%s created: %v", dest, err)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	set := map[string]int{}
	for _, s := range a {
		set[s]++
	}
	for _, s := range b {
		set[s]--
	}
	for _, n := range set {
		if n != 0 {
			return false
		}
	}
	return true
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// A file 20 levels of 255-byte names deep (5 KB of path, beyond PATH_MAX)
// is extracted, its folders made one at a time; so is one whose deep
// folders are mapped.
func TestExtractDeepPath(t *testing.T) {
	deep := strings.Repeat(strings.Repeat("x", 255)+"/", 20) + "f"
	mapped := strings.Repeat(strings.Repeat("y", 252)+"./", 20) + "CON"
	bag := sealtest.SealFiles(t, [][2]string{{deep, "twenty levels down\n"}, {mapped, "mapped\n"}})
	for _, goos := range []string{"", "windows"} {
		dest := filepath.Join(t.TempDir(), "x")
		var out strings.Builder
		if err := runExtract(bag, dest, nil, goos, &out, io.Discard); err != nil {
			t.Fatalf("%q: %v\n%s", goos, err, out.String())
		}
		if !strings.Contains(out.String(), "extracted 8 files") || strings.Contains(out.String(), "FAIL") {
			t.Errorf("%q:\n%s", goos, out.String())
		}
		root, err := os.OpenRoot(dest)
		if err != nil {
			t.Fatal(err)
		}
		defer root.Close()
		written := map[string]string{"data/" + deep: "twenty levels down\n", "data/" + mapped: "mapped\n"}
		if goos == "windows" {
			written = map[string]string{"data/" + deep: "twenty levels down\n",
				"data/" + strings.Repeat(strings.Repeat("y", 252)+"%2E/", 20) + "CO%4E": "mapped\n"}
		}
		for p, c := range written {
			if b, err := root.ReadFile(filepath.Join(seal.BagDir, filepath.FromSlash(p))); err != nil || string(b) != c {
				t.Errorf("%q: %.60s...: %q, %.200v", goos, p, b, err)
			}
		}
	}
}
