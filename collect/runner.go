package collect

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/scelle/scelle/internal/evidence"
)

// Runner runs collectors in order of volatility.
type Runner struct {
	Env  Env
	Sink Sink
	// Timeout bounds one collector; a collector still running then is
	// abandoned and recorded as failed. 0 means no bound. A Lengthy
	// collector sets its own bound from it.
	Timeout time.Duration
	// OnStart is called before each collector runs, with its position.
	OnStart func(c Collector, i, n int)
	// OnOutcome is called for every item outcome, in the order they end.
	OnOutcome func(Outcome)
}

// Lengthy is implemented by a collector whose work grows with the host
// (physical memory): TimeLimit returns the time it is allowed, given the
// Runner's Timeout (above zero), instead of that Timeout.
type Lengthy interface {
	TimeLimit(timeout time.Duration) time.Duration
}

// ReasonNotRun is the reason of a collector skipped because the run was
// interrupted before its turn.
const ReasonNotRun = "interrupted before this collector ran"

// Order sorts collectors by volatility class, keeping the given order
// within a class.
func Order(cs []Collector) []Collector {
	out := append([]Collector(nil), cs...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Class() < out[j].Class() })
	return out
}

// Run runs the collectors, most volatile first. When ctx is cancelled
// (an interrupt), the collectors not yet run are recorded as skipped and
// Run returns ctx's error; what was stored stays valid.
func (r *Runner) Run(ctx context.Context, cs []Collector) error {
	cs = Order(cs)
	sink := &lockedSink{s: r.Sink}
	for i, c := range cs {
		if ctx.Err() != nil {
			r.outcome(Outcome{Collector: c.Name(), Class: c.Class().String(), Kind: evidence.KindCollector, Status: Skipped,
				Reason: ReasonNotRun, Started: time.Now().UTC(), Ended: time.Now().UTC()})
			continue
		}
		if r.OnStart != nil {
			r.OnStart(c, i, len(cs))
		}
		r.runOne(ctx, c, sink)
	}
	return ctx.Err()
}

func (r *Runner) runOne(ctx context.Context, c Collector, sink *lockedSink) {
	s := &Session{Env: &r.Env, collector: c.Name(), class: c.Class(), sink: sink, onOutcome: r.outcome}
	cctx, cancel := context.WithCancel(ctx)
	limit := r.Timeout
	if l, ok := c.(Lengthy); ok && limit > 0 {
		limit = l.TimeLimit(limit)
	}
	if limit > 0 {
		cctx, cancel = context.WithTimeout(ctx, limit)
	}
	defer cancel()
	started := time.Now().UTC()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("collector panicked: %v", p)
			}
		}()
		done <- c.Collect(cctx, s)
	}()
	var err error
	select {
	case err = <-done:
	case <-cctx.Done():
		// Give the collector a moment to notice the cancellation and
		// return by itself; after that it is abandoned.
		select {
		case err = <-done:
		case <-time.After(2 * time.Second):
			s.abandon()
			err = cctx.Err()
		}
	}
	if err == nil {
		return
	}
	reason := err.Error()
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		reason = fmt.Sprintf("time limit of %s reached; items after this point not collected", limit)
	case errors.Is(err, context.Canceled):
		reason = "interrupted; items after this point not collected"
	}
	r.outcome(Outcome{Collector: c.Name(), Class: c.Class().String(), Kind: evidence.KindCollector, Status: Failed,
		Reason: reason, Started: started, Ended: time.Now().UTC()})
}

func (r *Runner) outcome(o Outcome) {
	if r.OnOutcome != nil {
		r.OnOutcome(o)
	}
}
