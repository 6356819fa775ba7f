package acquire

import (
	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/netstat"
	"github.com/scelle/scelle/collect/winlive"
)

// hostNetwork reads the host's interfaces at start (GetAdaptersAddresses),
// and what shows it still on a network: interfaces up with a global
// address and default routes, as on Linux.
func hostNetwork(env *collect.Env) ([]netstat.Interface, []string, error) {
	return winlive.Interfaces(env)
}
