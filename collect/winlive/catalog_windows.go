package winlive

import (
	"fmt"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Catalog signatures: most of Windows is signed through catalog files
// (System32\CatRoot), not in the files themselves. A file without an
// embedded signature is looked up there by its hash, and the catalog's
// signature verified for it (WinVerifyTrust, WTD_CHOICE_CATALOG).
var (
	wintrust                                = windows.NewLazySystemDLL("wintrust.dll")
	procCryptCATAdminAcquireContext         = wintrust.NewProc("CryptCATAdminAcquireContext")
	procCryptCATAdminAcquireContext2        = wintrust.NewProc("CryptCATAdminAcquireContext2")
	procCryptCATAdminCalcHashFromFileHandle = wintrust.NewProc("CryptCATAdminCalcHashFromFileHandle")
	procCryptCATAdminCalcHashFromFileHand2  = wintrust.NewProc("CryptCATAdminCalcHashFromFileHandle2")
	procCryptCATAdminEnumCatalogFromHash    = wintrust.NewProc("CryptCATAdminEnumCatalogFromHash")
	procCryptCATCatalogInfoFromContext      = wintrust.NewProc("CryptCATCatalogInfoFromContext")
	procCryptCATAdminReleaseCatalogContext  = wintrust.NewProc("CryptCATAdminReleaseCatalogContext")
	procCryptCATAdminReleaseContext         = wintrust.NewProc("CryptCATAdminReleaseContext")
)

// catalogInfo is CATALOG_INFO.
type catalogInfo struct {
	size uint32
	file [windows.MAX_PATH]uint16
}

// wintrustCatalogInfo is WINTRUST_CATALOG_INFO.
type wintrustCatalogInfo struct {
	size           uint32
	version        uint32
	catalogPath    *uint16
	memberTag      *uint16
	memberPath     *uint16
	memberFile     windows.Handle
	hash           *byte
	hashLen        uint32
	catalogContext uintptr
	catAdmin       uintptr
}

// verifyCatalog looks the file up in the system's catalogs and verifies
// the catalog's signature for it. found is false when no catalog holds
// it (or the host cannot say).
func verifyCatalog(path string) (a *Authenticode, found bool) {
	for _, p := range []*windows.LazyProc{procCryptCATAdminAcquireContext, procCryptCATAdminCalcHashFromFileHandle,
		procCryptCATAdminEnumCatalogFromHash, procCryptCATCatalogInfoFromContext, procCryptCATAdminReleaseCatalogContext,
		procCryptCATAdminReleaseContext} {
		if find(p) != nil {
			return nil, false
		}
	}
	f, err := openShared(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	// SHA-256 catalogs (Windows 8 and later), then SHA-1 ones.
	var admin uintptr
	calc := procCryptCATAdminCalcHashFromFileHandle
	algo := "SHA1"
	if find(procCryptCATAdminAcquireContext2) == nil && find(procCryptCATAdminCalcHashFromFileHand2) == nil {
		sha256, _ := windows.UTF16PtrFromString("SHA256")
		if r, _, _ := procCryptCATAdminAcquireContext2.Call(uintptr(unsafe.Pointer(&admin)), 0, uintptr(unsafe.Pointer(sha256)), 0, 0); r != 0 {
			calc, algo = procCryptCATAdminCalcHashFromFileHand2, "SHA256"
		}
	}
	if admin == 0 {
		if r, _, _ := procCryptCATAdminAcquireContext.Call(uintptr(unsafe.Pointer(&admin)), 0, 0); r == 0 {
			return nil, false
		}
	}
	defer procCryptCATAdminReleaseContext.Call(admin, 0)
	hash := make([]byte, 64)
	n := uint32(len(hash))
	var r uintptr
	if algo == "SHA256" {
		r, _, _ = calc.Call(admin, f.Fd(), uintptr(unsafe.Pointer(&n)), uintptr(unsafe.Pointer(&hash[0])), 0)
	} else {
		r, _, _ = calc.Call(f.Fd(), uintptr(unsafe.Pointer(&n)), uintptr(unsafe.Pointer(&hash[0])), 0)
	}
	if r == 0 || n == 0 || n > uint32(len(hash)) {
		return nil, false
	}
	hash = hash[:n]
	cat, _, _ := procCryptCATAdminEnumCatalogFromHash.Call(admin, uintptr(unsafe.Pointer(&hash[0])), uintptr(n), 0, 0)
	if cat == 0 {
		return nil, false
	}
	defer procCryptCATAdminReleaseCatalogContext.Call(admin, cat, 0)
	ci := catalogInfo{size: uint32(unsafe.Sizeof(catalogInfo{}))}
	if r, _, _ := procCryptCATCatalogInfoFromContext.Call(cat, uintptr(unsafe.Pointer(&ci)), 0); r == 0 {
		return nil, false
	}
	catalog := windows.UTF16ToString(ci.file[:])
	tag, _ := windows.UTF16PtrFromString(strings.ToUpper(fmt.Sprintf("%x", hash)))
	member, _ := windows.UTF16PtrFromString(path)
	info := wintrustCatalogInfo{size: uint32(unsafe.Sizeof(wintrustCatalogInfo{})), catalogPath: &ci.file[0], memberTag: tag,
		memberPath: member, memberFile: windows.Handle(f.Fd()), hash: &hash[0], hashLen: n, catAdmin: admin}
	hr := winVerifyTrust(windows.WTD_CHOICE_CATALOG, unsafe.Pointer(&info))
	a = authenticodeOf(hr)
	a.Source, a.Catalog, a.Note = "catalog", catalog, algo+" catalog entry"
	return a, true
}

// winVerifyTrust verifies offline (no revocation check, no URL
// retrieved) and returns the HRESULT.
func winVerifyTrust(choice uint32, subject unsafe.Pointer) uint32 {
	data := windows.WinTrustData{
		Size:                            uint32(unsafe.Sizeof(windows.WinTrustData{})),
		UIChoice:                        windows.WTD_UI_NONE,
		RevocationChecks:                windows.WTD_REVOKE_NONE,
		UnionChoice:                     choice,
		FileOrCatalogOrBlobOrSgnrOrCert: subject,
		StateAction:                     windows.WTD_STATEACTION_VERIFY,
		ProvFlags:                       windows.WTD_CACHE_ONLY_URL_RETRIEVAL | windows.WTD_REVOCATION_CHECK_NONE,
	}
	err := windows.WinVerifyTrustEx(windows.InvalidHWND, &windows.WINTRUST_ACTION_GENERIC_VERIFY_V2, &data)
	data.StateAction = windows.WTD_STATEACTION_CLOSE
	windows.WinVerifyTrustEx(windows.InvalidHWND, &windows.WINTRUST_ACTION_GENERIC_VERIFY_V2, &data)
	if en, ok := err.(windows.Errno); ok {
		return uint32(en)
	}
	if err != nil {
		return 0x80004005 // E_FAIL
	}
	return 0
}
