package sql_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calltrail/calltrail/gateway/store"
	"github.com/calltrail/calltrail/gateway/store/storetest"
)

// world collects journeys' events, calls and opportunities, and stores them
// in three inserts.
type world struct {
	t     *testing.T
	s     store.Store
	hits  []storetest.Hit
	calls []string // VALUES rows of call_tasks
	opps  []string // VALUES rows of opportunities
}

func (w *world) flush() {
	storetest.Insert(w.t, w.s, w.hits...)
	for table, rows := range map[string][]string{
		"call_tasks (task_id, source, task_type, uid, bizible_id, call_time, received_at, version)":                                     w.calls,
		"opportunities (opportunity_id, amount, created_date, close_date, is_won, is_closed, email_hash, source, received_at, version)": w.opps,
	} {
		if len(rows) == 0 {
			continue
		}
		if err := w.s.Exec(context.Background(), "INSERT INTO "+table+" VALUES "+strings.Join(rows, ", "), nil); err != nil {
			w.t.Fatal(err)
		}
	}
}

// journey builds one person's touchpoints: visits, forms, chats and calls on
// a timeline of days after day0.
type journey struct {
	w     *world
	uid   string
	email string
}

var day0 = time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC)

func at(day float64) time.Time { return day0.Add(time.Duration(day * 24 * float64(time.Hour))) }

func (w *world) journey(n int) *journey {
	return &journey{w: w, uid: fmt.Sprintf("%032x", 0xabc000+n), email: fmt.Sprintf("buyer%d@acme.example", n)}
}

func (j *journey) sid(day float64) string { return fmt.Sprintf("s%d", int(day*1000)) }

// visit starts a session on day.
func (j *journey) visit(day float64) *journey {
	j.w.hits = append(j.w.hits, storetest.Hit{UID: j.uid, SID: j.sid(day), At: at(day), URL: "https://acme.example/?utm_source=s" + j.sid(day)})
	return j
}

// form fills a form in the session started on day, a minute in.
func (j *journey) form(day float64, typ string) *journey {
	j.w.hits = append(j.w.hits, storetest.Hit{UID: j.uid, SID: j.sid(day), Type: typ, At: at(day).Add(time.Minute), URL: "https://acme.example/contact", Email: j.email})
	return j
}

// call logs a merged call five minutes into the session started on day.
func (j *journey) call(day float64, id string) *journey { return j.callAfter(day, 5*time.Minute, id) }

// callAfter logs a merged call that long into the session started on day.
func (j *journey) callAfter(day float64, after time.Duration, id string) *journey {
	j.w.calls = append(j.w.calls, fmt.Sprintf("('%s', 'tasks_api', 'Call', '%s', '%s', '%s', now64(3), 1)",
		id, j.uid, j.uid, at(day).Add(after).Format("2006-01-02 15:04:05.000")))
	return j
}

// opportunity adds one for this person's email; close < 0 means open.
// CloseDate is a date, as in Salesforce: stored as midnight UTC of the day
// at(close) falls on, as gateway/opportunities stores it.
func (j *journey) opportunity(id string, amount, created, close float64, won bool) {
	sum := sha256.Sum256([]byte(j.email))
	closeDate, isClosed := "NULL", 0
	if close >= 0 {
		closeDate, isClosed = "'"+at(close).Format(time.DateOnly)+"'", 1
	}
	j.w.opps = append(j.w.opps, fmt.Sprintf("('%s', %g, '%s', %s, %d, %d, '%s', 'test', now64(3), 1)",
		id, amount, at(created).Format("2006-01-02 15:04:05"), closeDate, b2i(won), isClosed, hex.EncodeToString(sum[:])))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestAttributionHandWorkedJourneys(t *testing.T) {
	s := storetest.Open(t)
	w := &world{t: t, s: s}
	// 1 touchpoint: a visit with a form (FT, LC); an open opportunity.
	w.journey(1).visit(0).form(0, "form_submit").opportunity("O1", 1000, 3, -1, false)
	// 2 touchpoints: a visit (FT), a form days later (LC, and OC), won.
	j2 := w.journey(2).visit(0).visit(2).form(2, "form_submit")
	j2.opportunity("O2", 900, 4, 10, true)
	// 3 touchpoints: FT visit, LC form, a call (PostLC, OC); open.
	w.journey(3).visit(0).visit(1).form(1, "form_submit").visit(3).call(3, "T3").opportunity("O3", 300, 5, -1, false)
	// 5 touchpoints: FT visit, LC form, chat, call (OC), a last form
	// (Closed), then a form after the close that gets nothing.
	j5 := w.journey(5).visit(0).visit(1).form(1, "form_submit").visit(2).form(2, "chat").visit(4).call(4, "T5").visit(6).form(6, "form_submit")
	j5.visit(9).form(9, "form_submit")
	j5.opportunity("O5", 2000, 5, 7, true)
	// FT = LC, then a call (OC); open.
	w.journey(6).visit(0).form(0, "form_submit").visit(2).call(2, "T6").opportunity("O6", 600, 3, -1, false)
	// No OC: the opportunity was created (a sales-sourced deal) the day
	// before the person's first visit. FT visit, LC form, a chat, a call
	// (Closed), a form after the close day that gets nothing.
	j7 := w.journey(7).visit(0).visit(1).form(1, "form_submit").visit(1.5).form(1.5, "chat").visit(2).call(2, "T7")
	j7.visit(5).form(5, "form_submit")
	j7.opportunity("O7", 1550, -1, 3, true)
	w.flush()

	want := map[string]map[string]string{
		"O1": {
			"first_touch": "['web_form FT, LC, OC=1']", "lead_creation": "['web_form FT, LC, OC=1']",
			"u_shaped": "['web_form FT, LC, OC=1']", "w_shaped": "['web_form FT, LC, OC=1']",
			"full_path": "['web_form FT, LC, OC=1']", "linear": "['web_form FT, LC, OC=1']",
		},
		"O2": {
			// FT .3 | LC+OC+Closed: FT .225 vs .675 under full path
			"first_touch": "['web_visit FT=1']", "lead_creation": "['web_form LC, OC, Closed=1']",
			"u_shaped":  "['web_visit FT=0.5','web_form LC, OC, Closed=0.5']",
			"w_shaped":  "['web_visit FT=0.3333','web_form LC, OC, Closed=0.6667']",
			"full_path": "['web_visit FT=0.25','web_form LC, OC, Closed=0.75']",
			"linear":    "['web_visit FT=0.5','web_form LC, OC, Closed=0.5']",
		},
		"O3": {
			"first_touch": "['web_visit FT=1']", "lead_creation": "['web_form LC=1']",
			"u_shaped":  "['web_visit FT=0.5','web_form LC=0.5']",
			"w_shaped":  "['web_visit FT=0.3333','web_form LC=0.3333','call PostLC, OC=0.3333']",
			"full_path": "['web_visit FT=0.3333','web_form LC=0.3333','call PostLC, OC=0.3333']",
			"linear":    "['web_visit FT=0.3333','web_form LC=0.3333','call PostLC, OC=0.3333']",
		},
		"O5": {
			"first_touch": "['web_visit FT=1']", "lead_creation": "['web_form LC=1']",
			"u_shaped": "['web_visit FT=0.5','web_form LC=0.5']",
			// the chat sits between FT and OC: the 10% middle
			"w_shaped":  "['web_visit FT=0.3','web_form LC=0.3','web_chat PostLC=0.1','call PostLC, OC=0.3']",
			"full_path": "['web_visit FT=0.225','web_form LC=0.225','web_chat PostLC=0.1','call PostLC, OC=0.225','web_form PostLC, Closed=0.225']",
			"linear":    "['web_visit FT=0.2','web_form LC=0.2','web_chat PostLC=0.2','call PostLC, OC=0.2','web_form PostLC, Closed=0.2']",
		},
		"O6": {
			"first_touch": "['web_form FT, LC=1']", "lead_creation": "['web_form FT, LC=1']",
			"u_shaped":  "['web_form FT, LC=1']",
			"w_shaped":  "['web_form FT, LC=0.6667','call PostLC, OC=0.3333']",
			"full_path": "['web_form FT, LC=0.6667','call PostLC, OC=0.3333']",
			"linear":    "['web_form FT, LC=0.5','call PostLC, OC=0.5']",
		},
		"O7": {
			"first_touch": "['web_visit FT=1']", "lead_creation": "['web_form LC=1']",
			"u_shaped": "['web_visit FT=0.5','web_form LC=0.5']",
			// without OC the last W milestone is LC: nothing after it
			"w_shaped": "['web_visit FT=0.5','web_form LC=0.5']",
			// .225 .225 | .1 | .225, scaled by 1/.775
			"full_path": "['web_visit FT=0.2903','web_form LC=0.2903','web_chat PostLC=0.129','call PostLC, Closed=0.2903']",
			"linear":    "['web_visit FT=0.25','web_form LC=0.25','web_chat PostLC=0.25','call PostLC, Closed=0.25']",
		},
	}
	checkCredits(t, s, want)
	// Revenue is share × Amount; a won deal's revenue adds up to its amount.
	if got := storetest.Query(t, s, "SELECT model, round(sum(revenue), 6) FROM attribution WHERE opportunity_id = 'O5' GROUP BY model ORDER BY model"); got !=
		"first_touch\t2000\nfull_path\t2000\nlead_creation\t2000\nlinear\t2000\nu_shaped\t2000\nw_shaped\t2000" {
		t.Errorf("O5 revenue per model:\n%s", got)
	}
}

// CloseDate is a date: every touchpoint on the close day counts for the
// opportunity, in attribution and in the touchpoints view's positions alike.
func TestAttributionCountsTheWholeCloseDay(t *testing.T) {
	s := storetest.Open(t)
	w := &world{t: t, s: s}
	// Created at 15:00 and closed the same day: the call that morning is OC,
	// the chat at 16:56 Closed; the form the day after gets nothing.
	j1 := w.journey(11).visit(0).visit(1).form(1, "form_submit").visit(3).call(3, "TC1").visit(3.3).form(3.3, "chat")
	j1.visit(4).form(4, "form_submit")
	j1.opportunity("C1", 1000, 3.25, 3, true)
	// Created and closed the same day, the call at 09:05 the last touch
	// before both: OC and Closed.
	w.journey(12).visit(0).form(0, "form_submit").visit(2).call(2, "TC2").opportunity("C2", 500, 2.1, 2, true)
	// CloseDate (Sept 6) before CreatedDate's UTC day (Sept 7, 01:48): the
	// chat at 01:20 is OC, and Closed is never before OC.
	w.journey(13).visit(0).form(0, "form_submit").visit(5).call(5, "TC3").visit(5.68).form(5.68, "chat").opportunity("C3", 800, 5.7, 5, false)
	w.flush()

	want := map[string]map[string]string{
		"C1": {
			"first_touch": "['web_visit FT=1']", "lead_creation": "['web_form LC=1']",
			"u_shaped":  "['web_visit FT=0.5','web_form LC=0.5']",
			"w_shaped":  "['web_visit FT=0.3333','web_form LC=0.3333','call PostLC, OC=0.3333']",
			"full_path": "['web_visit FT=0.25','web_form LC=0.25','call PostLC, OC=0.25','web_chat PostLC, Closed=0.25']",
			"linear":    "['web_visit FT=0.25','web_form LC=0.25','call PostLC, OC=0.25','web_chat PostLC, Closed=0.25']",
		},
		"C2": {
			"first_touch": "['web_form FT, LC=1']", "lead_creation": "['web_form FT, LC=1']", "u_shaped": "['web_form FT, LC=1']",
			"w_shaped":  "['web_form FT, LC=0.6667','call PostLC, OC, Closed=0.3333']",
			"full_path": "['web_form FT, LC=0.5','call PostLC, OC, Closed=0.5']",
			"linear":    "['web_form FT, LC=0.5','call PostLC, OC, Closed=0.5']",
		},
		"C3": {
			"first_touch": "['web_form FT, LC=1']", "lead_creation": "['web_form FT, LC=1']", "u_shaped": "['web_form FT, LC=1']",
			"w_shaped":  "['web_form FT, LC=0.6','call PostLC=0.1','web_chat PostLC, OC, Closed=0.3']",
			"full_path": "['web_form FT, LC=0.45','call PostLC=0.1','web_chat PostLC, OC, Closed=0.45']",
			"linear":    "['web_form FT, LC=0.3333','call PostLC=0.3333','web_chat PostLC, OC, Closed=0.3333']",
		},
	}
	checkCredits(t, s, want)
	// The touchpoints view shows the same positions, and the form after
	// C1's close day is only PostLC.
	if got := storetest.Query(t, s, "SELECT groupArray(concat(touchpoint_kind, ' ', touchpoint_position)) FROM (SELECT * FROM touchpoints WHERE uid = '"+j1.uid+"' ORDER BY touchpoint_date)"); got !=
		"['web_visit FT','web_form LC','call PostLC, OC','web_chat PostLC, Closed','web_form PostLC']" {
		t.Errorf("C1's touchpoints: %s", got)
	}
}

// checkCredits compares each opportunity's credit under each model, as
// "kind position=share" in the touchpoints' time order, with want. One
// query reads them all: the views are computed once, not per model.
func checkCredits(t *testing.T, s store.Store, want map[string]map[string]string) {
	t.Helper()
	rows := storetest.Query(t, s, `SELECT a.opportunity_id, a.model,
		arrayMap(x -> x.3, arraySort(groupArray((t.touchpoint_date, t.touchpoint_id,
			concat(t.touchpoint_kind, ' ', t.touchpoint_position, '=', toString(round(a.share, 4)))))))
		FROM attribution AS a INNER JOIN touchpoints AS t ON t.touchpoint_id = a.touchpoint_id
		GROUP BY a.opportunity_id, a.model`)
	got := map[string]map[string]string{}
	for _, line := range strings.Split(rows, "\n") {
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 {
			continue
		}
		if got[f[0]] == nil {
			got[f[0]] = map[string]string{}
		}
		got[f[0]][f[1]] = f[2]
	}
	for opp, models := range want {
		for model, want := range models {
			if got[opp][model] != want {
				t.Errorf("%s %s:\n got %s\nwant %s", opp, model, got[opp][model], want)
			}
		}
	}
}

// Property: under every model, the shares of every opportunity sum to 1,
// whatever the journey.
func TestAttributionSharesSumToOne(t *testing.T) {
	s := storetest.Open(t)
	w := &world{t: t, s: s}
	r := rand.New(rand.NewPCG(7, 11))
	opps := 0
	for n := 0; n < 40; n++ {
		j := w.journey(100 + n)
		day := 0.0
		var days []float64
		steps := 1 + r.IntN(7)
		for k := 0; k < steps; k++ {
			days = append(days, day)
			j.visit(day)
			switch r.IntN(4) {
			case 0:
				j.form(day, "form_submit")
			case 1:
				j.form(day, "chat")
			case 2:
				j.call(day, fmt.Sprintf("T%d-%d", n, k))
			}
			day += 0.5 + r.Float64()*3
		}
		for o := 0; o < r.IntN(3); o++ {
			// Half the deals are created hours after a touch, and half the
			// closed ones close on the creation day: the close-day edge.
			created := r.Float64() * day
			if r.IntN(2) == 0 {
				created = days[r.IntN(len(days))] + r.Float64()*0.3
			}
			close := -1.0
			if r.IntN(2) == 0 {
				close = created + float64(r.IntN(2))*r.Float64()*5
			}
			j.opportunity(fmt.Sprintf("P%d-%d", n, o), float64(100+r.IntN(5000)), created, close, r.IntN(2) == 0)
			opps++
		}
	}
	// Ties: a call at the very instant of the form that is LC. Whichever id
	// sorts first, the form stays LC and the call does not become a touch
	// "between" FT and LC.
	for n := 0; n < 4; n++ {
		w.journey(200+n).visit(0).visit(1).form(1, "form_submit").callAfter(1, time.Minute, fmt.Sprintf("TIE%d", n)).
			opportunity(fmt.Sprintf("TIE%d", n), 100, 2, -1, false)
		opps++
	}
	w.flush()
	rows := storetest.Query(t, s, `SELECT opportunity_id, model, sum(share), min(share), max(share), count() FROM attribution GROUP BY opportunity_id, model`)
	perOpp := map[string]int{}
	for _, line := range strings.Split(rows, "\n") {
		f := strings.Split(line, "\t")
		sum, _ := strconv.ParseFloat(f[2], 64)
		lo, _ := strconv.ParseFloat(f[3], 64)
		hi, _ := strconv.ParseFloat(f[4], 64)
		if math.Abs(sum-1) > 1e-9 || lo <= 0 || hi > 1+1e-12 {
			t.Errorf("%s %s: shares sum to %v (min %v, max %v)", f[0], f[1], sum, lo, hi)
		}
		perOpp[f[0]]++
	}
	// Every opportunity whose person has touchpoints is attributed under all
	// six models.
	attributable := storetest.Query(t, s, `SELECT count() FROM (SELECT DISTINCT opportunity_id FROM opportunity_touchpoints)`)
	var ids []string
	for id, n := range perOpp {
		if n != 6 {
			t.Errorf("%s: %d models", id, n)
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if strconv.Itoa(len(ids)) != attributable || len(ids) < opps/2 {
		t.Fatalf("%d opportunities attributed, %s attributable, %d made", len(ids), attributable, opps)
	}

	// Positions and attribution follow one rule: for the people with one
	// opportunity, the touchpoints view marks OC and Closed on exactly the
	// touchpoints opportunity_touchpoints does (closes are dates, many on the
	// creation day); and no Closed touch comes before the OC touch.
	const single = `person_id IN (SELECT person_id FROM opportunity_persons GROUP BY person_id HAVING count() = 1)`
	view := storetest.Query(t, s, `SELECT countIf(has(p, 'OC')), countIf(has(p, 'Closed')) FROM
		(SELECT splitByString(', ', touchpoint_position) AS p FROM touchpoints WHERE `+single+`)`)
	flags := storetest.Query(t, s, `SELECT countIf(is_oc), countIf(is_closed_touch) FROM opportunity_touchpoints WHERE `+single)
	mismatched := storetest.Query(t, s, `SELECT count() FROM opportunity_touchpoints AS o
		INNER JOIN touchpoints AS t ON t.touchpoint_id = o.touchpoint_id
		WHERE o.`+single+` AND (o.is_oc != has(splitByString(', ', t.touchpoint_position), 'OC')
			OR o.is_closed_touch != has(splitByString(', ', t.touchpoint_position), 'Closed'))`)
	if view != flags || mismatched != "0" || view == "0\t0" {
		t.Errorf("OC, Closed: touchpoints view %s, opportunity_touchpoints %s, %s touchpoints disagree", view, flags, mismatched)
	}
	if got := storetest.Query(t, s, `SELECT count() FROM (SELECT maxIf(rank, is_oc) AS oc, maxIf(rank, is_closed_touch) AS closed
		FROM opportunity_touchpoints GROUP BY opportunity_id HAVING countIf(is_closed_touch) > 0) WHERE closed < oc`); got != "0" {
		t.Errorf("%s opportunities have their Closed touch before OC", got)
	}
	// U-shaped's middle is empty: LC is the first conversion and a web
	// visit is a touchpoint only as FT, so nothing lies between FT and LC
	// (docs/revenue.md).
	if got := storetest.Query(t, s, `SELECT count() FROM attribution AS a
		INNER JOIN opportunity_touchpoints AS o ON o.opportunity_id = a.opportunity_id AND o.touchpoint_id = a.touchpoint_id
		WHERE a.model = 'u_shaped' AND NOT o.is_ft AND NOT o.is_lc`); got != "0" {
		t.Errorf("%s touchpoints other than FT and LC have U-shaped credit", got)
	}
}
