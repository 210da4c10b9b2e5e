package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/calltrail/calltrail/gateway/calls"
	"github.com/calltrail/calltrail/gateway/opportunities"
	"github.com/calltrail/calltrail/gateway/sfrecord"
)

const importUsage = `usage: calltrail import tasks|opportunities [flags] FILE.csv   (FILE "-" reads stdin)

Loads a Salesforce Data Loader export into a running gateway, in batches:
  tasks          Task records (header row of API field names: Id, Type,
                 Subject, CreatedDate, bizible2__BizibleId__c, …; docs/calls.md)
  opportunities  Opportunity records (Id, Name, Amount, StageName, CreatedDate,
                 CloseDate, IsWon, IsClosed, ContactId or Email; docs/revenue.md)
Progress and each rejected row's line and reason go to stderr; the counts to
stdout. Exit status 1 when rows were rejected. Importing a file again is
safe: the same Id replaces itself.
`

// importable are the kinds of records `calltrail import` loads.
var importable = map[string]struct {
	object sfrecord.Object
	post   func(baseURL, token string, client *http.Client) sfrecord.Poster
}{
	"tasks":         {calls.Tasks, calls.PostTasksHTTP},
	"opportunities": {opportunities.Object, opportunities.PostHTTP},
}

func importCommand(args []string) error {
	fs := flag.NewFlagSet("import", flag.ExitOnError)
	var c client
	c.register(fs)
	batch := fs.Int("batch", 5000, "rows per request")
	fs.Usage = func() { fmt.Fprint(fs.Output(), importUsage); fs.PrintDefaults() }
	if len(args) == 0 {
		fs.Usage()
		return errors.New("what to import: tasks or opportunities")
	}
	kind, ok := importable[args[0]]
	if !ok {
		fs.Usage()
		return fmt.Errorf("cannot import %q: tasks or opportunities", args[0])
	}
	fs.Parse(args[1:])
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("give one CSV file")
	}
	if err := c.resolve(); err != nil {
		return err
	}
	name := fs.Arg(0)
	var in io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stats, err := sfrecord.ImportCSV(ctx, in, kind.object, kind.post(c.url, c.token, nil), sfrecord.ImportOptions{
		BatchRows: *batch, Progress: prefixed{os.Stderr, "import: "}, Rejected: prefixed{os.Stderr, "rejected: "},
	})
	fmt.Printf("%s: %d rows: %d imported, %d updated, %d rejected\n", name, stats.Rows, stats.Created, stats.Updated, stats.Rejected)
	if err != nil {
		return fmt.Errorf("stopped: %w (rows before it are stored; importing the file again is safe)", err)
	}
	switch stats.Rejected {
	case 0:
		return nil
	case 1:
		return errors.New("1 row rejected (the reason is above)")
	}
	return fmt.Errorf("%d rows rejected (reasons above)", stats.Rejected)
}

// prefixed writes each line with a prefix.
type prefixed struct {
	w      io.Writer
	prefix string
}

func (p prefixed) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, p.prefix+string(b)); err != nil {
		return 0, err
	}
	return len(b), nil
}
