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
		fmt.Println(p.Name, p.OS, p.Bodyfile[:min(1, len(p.Bodyfile))])
	}
	// Output:
	// full [linux] [/]
	// triage [linux] [/tmp]
	// windows-triage [windows] []
}
