package channels_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/calltrail/calltrail/gateway/channels"
	"github.com/calltrail/calltrail/gateway/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

func TestDefaultSheetParses(t *testing.T) {
	rules := channels.Default()
	if len(rules) < 20 || rules[len(rules)-1].Channel != "Other" {
		t.Fatalf("default sheet: %d rules, last %+v", len(rules), rules[len(rules)-1])
	}
}

func TestParseErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct {
		name, sheet, want string
	}{
		{"unknown column", "Channel,Subchannel,Medum\nEmail,,email\n", `line 1: unknown column "Medum"`},
		{"no channel column", "Subchannel,Medium\nx,email\n", "line 1: the header has no Channel column"},
		{"empty channel", "Channel,Medium\nEmail,email\n,cpc\n", "line 3: Channel is empty"},
		{"star in the middle", "Channel,Source\n# comment\nSocial,face*book\n", `line 3: Source: "face*book": * may stand only at the start or end`},
		{"empty alternative", "Channel,Medium\nEmail,email;;newsletter\n", "line 2: Medium: an empty alternative"},
		{"bad click id", "Channel,Click ID\nPaid Search,gclid;yclid\n", `line 2: Click ID: "yclid" is not a click id`},
		{"too many cells", "Channel,Medium\nEmail,email,extra\n", "line 2: 3 cells but the header names 2 columns"},
		{"bad quoting", "Channel,Medium\nEmail,\"email\n", "line 2:"},
		{"no rules", "Channel,Medium\n# nothing\n", "the sheet has no rules"},
		{"empty file", "", "line 1: the sheet has no header row"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := channels.Parse(strings.NewReader(tc.sheet))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestPatterns(t *testing.T) {
	rules, err := channels.Parse(strings.NewReader("Note,Medium,Channel,Source,Referring Website\nx,paid_social;CPC,Paid,*google*,(none)\n,*,Any,,\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(rules[0].Patterns[channels.Medium], rules[0].Patterns[channels.Source], rules[0].Patterns[channels.ReferringWebsite], rules[1].Patterns[channels.Medium])
	if want := `[paid\_social CPC] [%google%] [] [_%]`; got != want {
		t.Fatalf("patterns %s, want %s", got, want)
	}
	if rules[0].Line != 2 || rules[1].Line != 3 || rules[0].Channel != "Paid" {
		t.Fatalf("rules %+v", rules)
	}
}

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// TestDefaultChannels classifies real-looking first hits through the
// sessions view, with the default sheet in force.
func TestDefaultChannels(t *testing.T) {
	s := storetest.Open(t)
	cases := []struct {
		url, ref          string
		path, src, medium string
	}{
		{"https://www.acme.example/?gclid=Cj0KCQiA", "https://www.google.com/", "Paid Search.Google", "Google AdWords", "CPC"},
		{"https://www.acme.example/?gbraid=0AAAAA", "", "Paid Search.Google", "Google AdWords", "CPC"},
		{"https://www.acme.example/lp?msclkid=9f8e&utm_source=bing&utm_medium=cpc", "https://www.bing.com/", "Paid Search.Bing", "Bing Ads", "CPC"},
		{"https://www.acme.example/?fbclid=IwAR3", "https://l.facebook.com/", "Paid Social.Facebook", "Facebook", "CPC"},
		{"https://www.acme.example/?li_fat_id=abc-123", "https://www.linkedin.com/", "Paid Social.LinkedIn", "LinkedIn", "CPC"},
		{"https://www.acme.example/?utm_source=google&utm_medium=cpc&utm_campaign=brand", "", "Paid Search.Google", "google", "cpc"},
		{"https://www.acme.example/?utm_source=capterra&utm_medium=ppc", "", "Paid Search.Other", "capterra", "ppc"},
		{"https://www.acme.example/?utm_source=linkedin&utm_medium=paid_social", "", "Paid Social.LinkedIn", "linkedin", "paid_social"},
		{"https://www.acme.example/?utm_source=newsletter&utm_medium=email&utm_campaign=nov", "https://mail.google.com/", "Email", "newsletter", "email"},
		{"https://www.acme.example/?utm_source=mailchimp", "", "Email", "mailchimp", "email"},
		{"https://www.acme.example/?utm_source=adroll&utm_medium=display", "", "Display", "adroll", "display"},
		{"https://www.acme.example/pricing", "https://www.google.co.uk/", "Organic Search.Google", "Google", "organic"},
		{"https://www.acme.example/", "https://duckduckgo.com/", "Organic Search.DuckDuckGo", "DuckDuckGo", "organic"},
		{"https://www.acme.example/", "https://www.bing.com/search?q=acme", "Organic Search.Bing", "Bing", "organic"},
		{"https://www.acme.example/blog", "https://t.co/xyz", "Social.X", "t.co", "social"},
		{"https://www.acme.example/blog", "https://www.linkedin.com/feed/", "Social.LinkedIn", "www.linkedin.com", "social"},
		{"https://www.acme.example/", "https://news.ycombinator.com/item?id=1", "Web Referral", "news.ycombinator.com", "referral"},
		{"https://www.acme.example/", "", "Direct", "Web Direct", "direct"},
		{"https://www.acme.example/?utm_medium=podcast", "", "Other", "Web Direct", "podcast"},
		// Tagged with a source only: the medium says it was not set.
		{"https://www.acme.example/?utm_source=partner_x", "", "Other", "partner_x", "(not set)"},
		// Paid social tagged cpc/ppc is Paid Social, not Paid Search.Other.
		{"https://www.acme.example/?utm_source=facebook&utm_medium=cpc&utm_campaign=retargeting", "", "Paid Social.Facebook", "facebook", "cpc"},
		{"https://www.acme.example/?utm_source=instagram&utm_medium=ppc", "https://l.instagram.com/", "Paid Social.Facebook", "instagram", "ppc"},
		{"https://www.acme.example/?utm_source=linkedin&utm_medium=cpc", "https://www.linkedin.com/", "Paid Social.LinkedIn", "linkedin", "cpc"},
		{"https://www.acme.example/?utm_source=tiktok&utm_medium=cpc", "", "Paid Social.TikTok", "tiktok", "cpc"},
		{"https://www.acme.example/?utm_source=twitter&utm_medium=cpc", "https://t.co/ab1", "Paid Social.X", "twitter", "cpc"},
		// utm_medium=organic (Google Business Profile links) is organic search.
		{"https://www.acme.example/?utm_source=google&utm_medium=organic&utm_campaign=gbp", "", "Organic Search.Google", "Google", "organic"},
		{"https://www.acme.example/?utm_source=yelp&utm_medium=organic", "", "Organic Search", "yelp", "organic"},
		// Google's and Yahoo's other hosts are not their search engines:
		// webmail is Email, the rest are referrals.
		{"https://www.acme.example/", "https://mail.google.com/", "Email", "mail.google.com", "email"},
		{"https://www.acme.example/", "https://docs.google.com/document/d/1x/edit", "Web Referral", "docs.google.com", "referral"},
		{"https://www.acme.example/", "https://us.mail.yahoo.com/", "Email", "us.mail.yahoo.com", "email"},
		{"https://www.acme.example/", "https://outlook.live.com/", "Email", "outlook.live.com", "email"},
		{"https://www.acme.example/", "https://google.com/", "Organic Search.Google", "Google", "organic"},
		{"https://www.acme.example/", "https://www.google.com.au/", "Organic Search.Google", "Google", "organic"},
		{"https://www.acme.example/", "https://search.yahoo.com/search?p=acme", "Organic Search.Yahoo", "Yahoo", "organic"},
	}
	var hits []storetest.Hit
	for i, c := range cases {
		hits = append(hits, storetest.Hit{UID: fmt.Sprintf("%032x", i+1), SID: "s", At: t0, URL: c.url, Ref: c.ref})
	}
	storetest.Insert(t, s, hits...)
	rows := strings.Split(storetest.Query(t, s, "SELECT marketing_channel_path, touchpoint_source, medium FROM sessions ORDER BY uid"), "\n")
	if len(rows) != len(cases) {
		t.Fatalf("%d sessions for %d cases", len(rows), len(cases))
	}
	for i, c := range cases {
		if want := c.path + "\t" + c.src + "\t" + c.medium; rows[i] != want {
			t.Errorf("%s (ref %q):\n got %q\nwant %q", c.url, c.ref, rows[i], want)
		}
	}
}

func TestRuleOrderWildcardsAndReclassification(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	storetest.Insert(t, s,
		storetest.Hit{UID: strings.Repeat("1", 32), SID: "s", At: t0, URL: "https://www.acme.example/webinars/q4?utm_source=Partner-Hub&utm_medium=referral&utm_campaign=Webinar_Q4"},
		storetest.Hit{UID: strings.Repeat("2", 32), SID: "s", At: t0, URL: "https://www.acme.example/?utm_source=partnerhub&utm_campaign=q4_webinar"},
		storetest.Hit{UID: strings.Repeat("3", 32), SID: "s", At: t0, URL: "https://www.acme.example/pricing", Ref: "https://www.g2.com/products/acme"},
	)
	channelsOf := func() string {
		return storetest.Query(t, s, "SELECT groupArray(marketing_channel_path) FROM (SELECT * FROM sessions ORDER BY uid)")
	}
	if got := channelsOf(); got != "['Other','Other','Web Referral']" {
		t.Fatalf("default sheet: %s", got)
	}

	// A user's sheet: rows are tried top-down; wildcards anywhere at the
	// ends; matching ignores case; `_` in a value is literal.
	sheet := `Channel,Subchannel,Campaign,Medium,Source,Landing Page,Referring Website
Partners,Webinars,*webinar*,,partner*,,
Partners,Webinar Pages,,,,*/webinars/*,
Review Sites,G2,,,,,*g2.com
Partners,Other,,,partner*,,
Web Referral,,,,,,*
Other,,,,,,
`
	rules, err := channels.Parse(strings.NewReader(sheet))
	if err != nil {
		t.Fatal(err)
	}
	changed, err := channels.Apply(ctx, s, rules, "test")
	if err != nil || !changed {
		t.Fatalf("apply: %v %v", changed, err)
	}
	// Stored sessions are reclassified: nothing was re-ingested.
	if got := channelsOf(); got != "['Partners.Webinars','Partners.Webinars','Review Sites.G2']" {
		t.Fatalf("after the new sheet: %s", got)
	}
	// The same sheet again changes nothing; the history keeps both sheets.
	if changed, err := channels.Apply(ctx, s, rules, "test"); err != nil || changed {
		t.Fatalf("re-apply: %v %v", changed, err)
	}
	if got := storetest.Query(t, s, "SELECT uniqExact(version), count() FROM channel_rules"); got != fmt.Sprintf("2\t%d", len(channels.Default())+len(rules)) {
		t.Fatalf("channel_rules history: %s", got)
	}
	if got := storetest.Query(t, s, "SELECT count(), any(sheet_source) FROM channel_sheet"); got != fmt.Sprintf("%d\ttest", len(rules)) {
		t.Fatalf("channel_sheet: %s", got)
	}

	// Order matters: put the landing-page row first.
	reordered := strings.Replace(sheet, "Partners,Webinars,*webinar*,,partner*,,\nPartners,Webinar Pages,,,,*/webinars/*,\n",
		"Partners,Webinar Pages,,,,*/webinars/*,\nPartners,Webinars,*webinar*,,partner*,,\n", 1)
	rules, _ = channels.Parse(strings.NewReader(reordered))
	if _, err := channels.Apply(ctx, s, rules, "test"); err != nil {
		t.Fatal(err)
	}
	if got := channelsOf(); got != "['Partners.Webinar Pages','Partners.Webinars','Review Sites.G2']" {
		t.Fatalf("after reordering: %s", got)
	}
}
