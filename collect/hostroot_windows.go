package collect

import (
	"os"
	"strings"
)

// LiveRoot returns the folder a root given by the user names. On Windows
// "/" (scelle collect's default, this live host) is the system drive's
// root (%SystemDrive%\, C:\ most often), not the current drive's, which is
// the responder's stick.
func LiveRoot(root string) string {
	if root != "/" && root != `\` {
		return root
	}
	return systemRoot()
}

func systemRoot() string {
	d := os.Getenv("SystemDrive")
	if len(d) != 2 || d[1] != ':' {
		d = "C:"
	}
	return strings.ToUpper(d) + `\`
}

// isLiveRoot reports whether root is this live host's: its system drive.
func isLiveRoot(root string) bool { return root == "/" || strings.EqualFold(root, systemRoot()) }
