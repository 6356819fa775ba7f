package proc_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/collecttest"
	"github.com/scelle/scelle/collect/proc"
)

// The process table of a fixture /proc, collected through a Runner.
func ExampleCollectors() {
	sink := &collecttest.Sink{}
	r := collect.Runner{Env: collect.Env{Live: true, Root: "/", Linux: collect.LinuxPaths{Proc: "testdata/proc"}}, Sink: sink}
	table := proc.Collectors(proc.Options{})[0]
	if err := r.Run(context.Background(), []collect.Collector{table}); err != nil {
		fmt.Println(err)
	}
	fmt.Println(table.Name(), strings.Count(string(sink.Files["live/proc/processes.jsonl"]), "\n"), "processes")
	fmt.Println(string(sink.Files["live/proc/4242/cmdline"]) == "./evil\x00-c\x00\xff\xfeconf\x00\x00last arg\x00")
	// Output:
	// proc.table 5 processes
	// true
}
