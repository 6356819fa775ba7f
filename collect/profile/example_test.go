package profile_test

import (
	"fmt"

	"github.com/scelle/scelle/collect/profile"
)

func ExampleSet_Profiles() {
	s, err := profile.Load("") // the embedded definitions only
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range s.Profiles() {
		fmt.Println(p.Name, p.OS, len(p.Items) > 0)
	}
	// Output:
	// full [linux] true
	// triage [linux] true
	// windows-triage [windows] true
}
