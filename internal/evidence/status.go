package evidence

// Status is how an item ended. In the record it is one of the strings of
// the constants below; a record read from a bag may hold another, which
// Valid tells.
type Status string

// Item outcomes. Every planned item ends with exactly one of them.
const (
	Collected Status = "collected" // stored whole
	Partial   Status = "partial"   // stored, but not whole: Reason says why
	Skipped   Status = "skipped"   // deliberately not stored: Reason says why
	Failed    Status = "failed"    // could not be stored: Reason has the error
)

// Statuses returns the statuses an item can end with, in the order the
// record's summary and the report list them.
func Statuses() []Status { return []Status{Collected, Partial, Skipped, Failed} }

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool {
	switch s {
	case Collected, Partial, Skipped, Failed:
		return true
	}
	return false
}

// Stored reports whether an item with status s has bytes in the bag
// (collected or partial).
func (s Status) Stored() bool { return s == Collected || s == Partial }
