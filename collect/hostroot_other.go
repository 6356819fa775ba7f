//go:build !windows

package collect

// LiveRoot returns the folder a root given by the user names: root itself
// ("/" is this live host).
func LiveRoot(root string) string { return root }

// isLiveRoot reports whether root is this live host's.
func isLiveRoot(root string) bool { return root == "/" }
