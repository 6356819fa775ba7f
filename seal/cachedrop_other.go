//go:build !linux

package seal

// dropCache does nothing: the page cache is dropped on Linux only, where
// scelle captures physical memory.
func dropCache(cacheFile, int64, int64) error { return nil }

func startWriteback(cacheFile, int64, int64) {}
