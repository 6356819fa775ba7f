//go:build !windows

package acquire

import (
	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/netstat"
)

// hostNetwork reads the host's interfaces at start, and what shows it
// still on a network (netstat.Connected).
func hostNetwork(env *collect.Env) (ifs []netstat.Interface, connected []string, err error) {
	ifs, err = netstat.Interfaces(env)
	return ifs, netstat.Connected(env, ifs), err
}
