package collect

import (
	"context"
	"strings"
	"testing"
	"time"
)

// sleeper sleeps for its time, or until its context ends.
type sleeper struct {
	d, limit time.Duration // limit: its TimeLimit, when lengthy
}

func (s *sleeper) Name() string { return "test.sleeper" }
func (s *sleeper) Class() Class { return ClassSystem }
func (s *sleeper) Collect(ctx context.Context, _ *Session) error {
	select {
	case <-time.After(s.d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type lengthySleeper struct{ sleeper }

func (s *lengthySleeper) TimeLimit(time.Duration) time.Duration { return s.limit }

// TestRunnerLengthy: a Lengthy collector runs within its own time limit,
// not the Runner's; another is stopped at the Runner's.
func TestRunnerLengthy(t *testing.T) {
	var outs []Outcome
	r := Runner{Timeout: 50 * time.Millisecond, OnOutcome: func(o Outcome) { outs = append(outs, o) }}
	if err := r.Run(context.Background(), []Collector{&lengthySleeper{sleeper{d: 200 * time.Millisecond, limit: 5 * time.Second}}}); err != nil {
		t.Fatal(err)
	}
	if len(outs) != 0 {
		t.Fatalf("lengthy collector stopped: %+v", outs)
	}
	if err := r.Run(context.Background(), []Collector{&lengthySleeper{sleeper{d: 5 * time.Second, limit: 100 * time.Millisecond}}}); err != nil {
		t.Fatal(err)
	}
	if len(outs) != 1 || outs[0].Status != Failed || !strings.Contains(outs[0].Reason, "time limit of 100ms reached") {
		t.Fatalf("outcomes %+v", outs)
	}
	outs = nil
	if err := r.Run(context.Background(), []Collector{&sleeper{d: 5 * time.Second}}); err != nil {
		t.Fatal(err)
	}
	if len(outs) != 1 || !strings.Contains(outs[0].Reason, "time limit of 50ms reached") {
		t.Fatalf("outcomes %+v", outs)
	}
}
