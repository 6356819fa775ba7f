package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/scelle/scelle/chain"
)

// parseWitness reads "NAME[;ROLE[;REFERENCE[;ORGANISATION]]]", e.g.
// "Me Claire Dupont;commissaire de justice;PV 2026-118".
func parseWitness(s string) (chain.Person, error) {
	f := strings.Split(s, ";")
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	if f[0] == "" || len(f) > 4 {
		return chain.Person{}, fmt.Errorf("--witness %q: want NAME[;ROLE[;REFERENCE[;ORGANISATION]]]", s)
	}
	p := chain.Person{Name: f[0]}
	if len(f) > 1 {
		p.Role = f[1]
	}
	if len(f) > 2 {
		p.Reference = f[2]
	}
	if len(f) > 3 {
		p.Organisation = f[3]
	}
	return p, nil
}

// parseReferenceTime reads an operator's reading of a trusted clock:
// RFC 3339, or "HH:MM:SS" in UTC, the time of day nearest the host's
// clock (at 23:30 on the host, "00:15:00" is 45 minutes ahead, the next
// day, not 23 hours behind).
func parseReferenceTime(s string, host time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse("15:04:05", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("reference time %q: want RFC 3339 (2026-11-22T15:04:05Z) or HH:MM:SS in UTC", s)
	}
	h := host.UTC()
	day := time.Date(h.Year(), h.Month(), h.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
	best := day
	for _, d := range []int{-1, 1} {
		if c := day.AddDate(0, 0, d); c.Sub(h).Abs() < best.Sub(h).Abs() {
			best = c
		}
	}
	return best, nil
}

// localTimeSuspect says why a reference time looks like local time
// rather than UTC: it differs from the host clock by more than 30
// minutes, within two minutes of a whole number of hours. "" when not.
func localTimeSuspect(operator, host time.Time) string {
	d := host.Sub(operator)
	if d < 0 {
		d = -d
	}
	hours := d.Round(time.Hour)
	if d <= 30*time.Minute || (d-hours).Abs() > 2*time.Minute {
		return ""
	}
	return fmt.Sprintf("the reference time is %d h from the host clock: local time instead of UTC?", int(hours/time.Hour))
}

// skewWords says in words how the host clock stands against the
// reference.
func skewWords(r *chain.Reference) string {
	d := time.Duration(r.SkewSeconds * float64(time.Second)).Round(time.Second)
	if d.Abs() < time.Second {
		return "host clock agrees with the reference (within 1 s)"
	}
	way := "ahead of"
	if d < 0 {
		way, d = "behind", -d
	}
	var parts []string
	if h := d / time.Hour; h > 0 {
		parts = append(parts, fmt.Sprintf("%d h", h))
	}
	if m := d % time.Hour / time.Minute; m > 0 {
		parts = append(parts, fmt.Sprintf("%d min", m))
	}
	if sec := d % time.Minute / time.Second; sec > 0 {
		parts = append(parts, fmt.Sprintf("%d s", sec))
	}
	return fmt.Sprintf("host clock %s %s the reference", strings.Join(parts, " "), way)
}

func newReference(operator, host time.Time) *chain.Reference {
	return &chain.Reference{Operator: operator, Host: host.UTC(), SkewSeconds: host.Sub(operator).Seconds()}
}

// stdinIsTerminal reports whether the collection may ask questions.
func stdinIsTerminal() bool { return term.IsTerminal(int(os.Stdin.Fd())) }

// askMissing asks on a terminal for what the operator did not give as
// flags: the case, the examiner and a reference time. Without a terminal it
// never reads standard input.
func askMissing(in io.Reader, out io.Writer, opts *collectOptions) error {
	r := bufio.NewReader(in)
	ask := func(q string) (string, error) {
		fmt.Fprint(out, q)
		line, err := r.ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			return "", fmt.Errorf("reading the answer: %w", err)
		}
		return strings.TrimSpace(line), nil
	}
	var err error
	if opts.Case == "" {
		if opts.Case, err = ask("Case identifier / numéro d'affaire: "); err != nil {
			return err
		}
	}
	if opts.Examiner == "" {
		if opts.Examiner, err = ask("Examiner (name) / opérateur (nom): "); err != nil {
			return err
		}
	}
	if opts.ReferenceTime == "" {
		if err := askReference(ask, out, opts); err != nil {
			return err
		}
	}
	return askPeople(ask, out, opts)
}

// askPeople asks for the examiner's organisation and role and for the
// witnesses, when no flag gave them. Each may be left empty; the end of
// the input ends the questions.
func askPeople(ask func(string) (string, error), out io.Writer, opts *collectOptions) error {
	optional := func(q string, v *string) error {
		if *v != "" {
			return nil
		}
		s, err := ask(q)
		if errors.Is(err, io.EOF) {
			return nil
		}
		*v = s
		return err
	}
	if err := optional("Your organisation / votre organisme (empty to skip / vide pour passer): ", &opts.Organisation); err != nil {
		return err
	}
	if err := optional("Your role / votre fonction (empty to skip / vide pour passer): ", &opts.Role); err != nil {
		return err
	}
	if len(opts.Witnesses) > 0 {
		return nil
	}
	for {
		s, err := ask("Witness: NAME;ROLE;PV REFERENCE (empty when done)\n  / témoin : NOM;QUALITÉ;RÉFÉRENCE DU PV (vide pour terminer): ")
		if errors.Is(err, io.EOF) || s == "" {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := parseWitness(s); err != nil {
			fmt.Fprintf(out, "%v\n", err)
			continue
		}
		opts.Witnesses = append(opts.Witnesses, s)
	}
}

// askReference asks for a reference time until it parses, asking once
// more when it looks like local time rather than UTC.
func askReference(ask func(string) (string, error), out io.Writer, opts *collectOptions) error {
	suspect := ""
	for {
		s, err := ask("Reference time from a trusted clock, UTC (HH:MM:SS, empty to skip)\n  / heure de référence, UTC (HH:MM:SS, vide pour passer): ")
		if err != nil {
			return err
		}
		if s == "" {
			break
		}
		host := time.Now()
		t, perr := parseReferenceTime(s, host)
		if perr != nil {
			fmt.Fprintf(out, "%v\n", perr)
			continue
		}
		// Asked once more when it looks like local time; the same
		// answer twice is taken as meant.
		if why := localTimeSuspect(t, host); why != "" && s != suspect {
			fmt.Fprintf(out, "%s\n  / heure locale au lieu d'UTC ? Enter it again to keep it / saisir à nouveau pour la garder.\n", why)
			suspect = s
			continue
		}
		opts.reference = newReference(t, host)
		break
	}
	return nil
}
