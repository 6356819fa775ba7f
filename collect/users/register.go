package users

import "github.com/scelle/scelle/collect"

// The login and account collectors, as definitions name them
// (collect.Register).
func init() {
	for _, n := range []collect.Native{
		{Name: "users.utmp", Description: "logged-in users",
			New: func(collect.NativeOptions) collect.Collector { return NewUtmp() }},
		{Name: "users.wtmp", Description: "login history",
			New: func(collect.NativeOptions) collect.Collector { return NewWtmp() }},
		{Name: "users.btmp", Description: "failed logins",
			New: func(collect.NativeOptions) collect.Collector { return NewBtmp() }},
		{Name: "users.lastlog", Description: "last login of each account",
			New: func(collect.NativeOptions) collect.Collector { return NewLastlog() }},
		{Name: "users.accounts", Description: "local accounts and groups, parsed",
			New: func(collect.NativeOptions) collect.Collector { return NewAccounts() }},
	} {
		n.Family, n.Class, n.OS = "users", collect.ClassSystem, []string{"linux"}
		collect.Register(n)
	}
}
