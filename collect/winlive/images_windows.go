package winlive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unsafe"

	sha256 "github.com/minio/sha256-simd"
	"golang.org/x/sys/windows"

	"github.com/scelle/scelle/collect"
)

func collectImages(ctx context.Context, s *collect.Session) error {
	enableDebugPrivilege() // win.processes records whether it could
	procs, err := toolhelpProcesses()
	if err != nil && len(procs) == 0 {
		s.Fail(srcImages, collect.KindGenerated, err)
		return nil
	}
	var problems []error
	if err != nil {
		problems = append(problems, err)
	}
	byPath := map[string]*Image{}
	var order []string
	add := func(path, kind string, pid uint32) {
		if path == "" {
			return
		}
		key := strings.ToLower(path)
		im, ok := byPath[key]
		if !ok {
			im = &Image{Path: path, Kind: kind}
			byPath[key] = im
			order = append(order, key)
		}
		if kind == "image" {
			im.Kind = "image"
		}
		if !slices.Contains(im.PIDs, pid) {
			im.PIDs = append(im.PIDs, pid)
		}
	}
	for _, e := range procs {
		if e.ProcessID == 0 {
			continue
		}
		if p := imagePath(e.ProcessID); p != "" {
			add(p, "image", e.ProcessID)
		}
		mods, _ := processModules(e.ProcessID)
		for _, m := range mods {
			add(m.Path, "module", e.ProcessID)
		}
	}
	out := make([]Image, 0, len(order))
	for _, key := range order {
		if err := ctx.Err(); err != nil {
			return err
		}
		im := byPath[key]
		slices.Sort(im.PIDs)
		hashImage(ctx, im)
		if im.Kind == "image" && !im.Gone {
			im.Authenticode = verifyTrust(im.Path)
		}
		out = append(out, *im)
	}
	putLines(ctx, s, "live/windows/images.jsonl", srcImages, out, errors.Join(problems...))
	return ctx.Err()
}

// imagePath returns the full image path of a process, "" when it cannot
// be opened.
func imagePath(pid uint32) string {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return ""
	}
	defer windows.CloseHandle(h)
	buf := make([]uint16, windows.MAX_LONG_PATH)
	n := uint32(len(buf))
	if windows.QueryFullProcessImageName(h, 0, &buf[0], &n) != nil {
		return ""
	}
	return windows.UTF16ToString(buf[:n])
}

// openShared opens a file for reading without keeping others from
// reading, writing or deleting it, and asks Windows not to update its
// last access time for this handle.
func openShared(path string) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ|windows.FILE_WRITE_ATTRIBUTES,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
		windows.OPEN_EXISTING, windows.FILE_FLAG_SEQUENTIAL_SCAN, 0)
	if err != nil {
		// Without write-attributes access the access time cannot be frozen.
		h, err = windows.CreateFile(p, windows.GENERIC_READ,
			windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
			windows.OPEN_EXISTING, windows.FILE_FLAG_SEQUENTIAL_SCAN, 0)
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
	} else {
		// A last access time of 0xFFFFFFFF:0xFFFFFFFF keeps it from being
		// updated by reads through this handle.
		keep := windows.Filetime{LowDateTime: 0xFFFFFFFF, HighDateTime: 0xFFFFFFFF}
		windows.SetFileTime(h, nil, &keep, nil)
	}
	return os.NewFile(uintptr(h), path), nil
}

// hashImage hashes the file of im once.
func hashImage(ctx context.Context, im *Image) {
	f, err := openShared(im.Path)
	if err != nil {
		if errors.Is(err, windows.ERROR_FILE_NOT_FOUND) || errors.Is(err, windows.ERROR_PATH_NOT_FOUND) {
			im.Gone = true
		}
		im.Error = err.Error()
		return
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		im.Error = err.Error()
		return
	}
	im.Size = before.Size()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(collect.NewContextReader(ctx, f), maxImageBytes))
	im.Hashed = n
	switch {
	case err != nil:
		im.Error = fmt.Sprintf("read after %d bytes: %v", n, err)
		return
	case n < im.Size:
		im.Error = fmt.Sprintf("hashed %d of %d bytes (cap or shorter read)", n, im.Size)
	}
	im.SHA256 = fmt.Sprintf("%x", h.Sum(nil))
	if after, err := f.Stat(); err == nil && (after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime())) {
		im.Changed = true
	}
}

// verifyTrust checks the file's embedded Authenticode signature with
// WinVerifyTrust, offline; a file with none is looked up in the
// system's catalogs.
func verifyTrust(path string) *Authenticode {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return &Authenticode{Status: "error", Note: err.Error()}
	}
	fi := windows.WinTrustFileInfo{Size: uint32(unsafe.Sizeof(windows.WinTrustFileInfo{})), FilePath: p}
	hr := winVerifyTrust(windows.WTD_CHOICE_FILE, unsafe.Pointer(&fi))
	if hr == trustNoSignature {
		if a, ok := verifyCatalog(path); ok {
			return a
		}
	}
	a := authenticodeOf(hr)
	a.Source = "embedded"
	return a
}
