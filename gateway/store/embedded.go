package store

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/calltrail/calltrail/gateway/store/chdb"
)

// Embedded is the store on chDB, in a folder of the local disk. It keeps
// separate connections so that a slow query never holds up the batch writer:
// one for writes, a few for CallTrail's own reads (a dashboard loads its
// reports in parallel; a connection runs one statement at a time), and one
// locked to readonly=1 for analysts' SQL.
type Embedded struct {
	write, analyst *chdb.Conn
	reads          chan *chdb.Conn
	all            []*chdb.Conn
}

// readConns is how many of CallTrail's own reads run at once.
const readConns = 3

// Analysts' statements stop after this long and this much memory, so that one
// careless query cannot stall the gateway.
const (
	analystMaxSeconds = 60
	analystMaxMemory  = 4 << 30
)

var databaseName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// OpenEmbedded opens (creating if needed) the embedded store in dir, using
// database as the current database of every connection. One process holds one
// engine: every OpenEmbedded in a process must name the same dir.
func OpenEmbedded(dir, database string) (*Embedded, error) {
	if !databaseName.MatchString(database) {
		return nil, fmt.Errorf("store: database name %q must match %s", database, databaseName)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("store: create data dir: %w", err)
	}
	e := &Embedded{reads: make(chan *chdb.Conn, readConns)}
	open := func(stmts ...string) (*chdb.Conn, error) {
		c, err := chdb.Open(dir)
		if err != nil {
			return nil, err
		}
		e.all = append(e.all, c)
		for _, s := range stmts {
			if _, err := c.Query([]byte(s), "", nil); err != nil {
				return nil, fmt.Errorf("store: %s: %w", s, err)
			}
		}
		return c, nil
	}
	var err error
	if e.write, err = open("CREATE DATABASE IF NOT EXISTS "+database, "USE "+database); err != nil {
		e.Close()
		return nil, err
	}
	for range readConns {
		c, err := open("USE " + database)
		if err != nil {
			e.Close()
			return nil, err
		}
		e.reads <- c
	}
	// readonly=1 last: after it, this connection can change no setting.
	e.analyst, err = open("USE "+database,
		fmt.Sprintf("SET max_execution_time = %d", analystMaxSeconds),
		fmt.Sprintf("SET max_memory_usage = %d", analystMaxMemory),
		"SET readonly = 1")
	if err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *Embedded) Exec(ctx context.Context, query string, params Params) error {
	_, err := e.run(ctx, e.write, []byte(query), "", params)
	return err
}

func (e *Embedded) Query(ctx context.Context, query, format string, params Params) ([]byte, error) {
	var c *chdb.Conn
	select {
	case c = <-e.reads:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { e.reads <- c }()
	return e.run(ctx, c, []byte(query), format, params)
}

// QueryReadOnly runs an analyst's statement on the readonly=1 connection.
// readonly=1 alone lets SYSTEM STOP MERGES, KILL QUERY, USE (which would
// switch the shared connection's database) and INTO OUTFILE (a file chDB's
// client side writes) through, so ClickHouse's own parser first says what
// the statement is, and only statements that read run:
//  1. formatQuery, given the text as a query parameter, parses it as one
//     statement and returns it formatted. chDB runs every statement of a
//     multi-statement text, so the text goes into no SQL before this.
//  2. EXPLAIN AST of that one statement names its kind (readingStatement).
//
// The formatted statement is the one that runs: what was checked runs.
func (e *Embedded) QueryReadOnly(ctx context.Context, query, format string) ([]byte, error) {
	stmt, err := e.run(ctx, e.analyst, []byte("SELECT formatQuery({q:String})"), "RawBLOB", Params{"q": query})
	if err != nil {
		return nil, err
	}
	ast, err := e.run(ctx, e.analyst, append([]byte("EXPLAIN AST "), stmt...), "TSVRaw", nil)
	if err == nil {
		if why := readingStatement(string(ast)); why != "" {
			return nil, fmt.Errorf("%w: %s", ErrReadOnly, why)
		}
		var out []byte
		if out, err = e.run(ctx, e.analyst, stmt, format, nil); err == nil {
			return out, nil
		}
	}
	if strings.Contains(err.Error(), "(READONLY)") {
		return nil, fmt.Errorf("%w: %v", ErrReadOnly, err)
	}
	return nil, err
}

// readingStatement says why a statement does not only read, from its
// EXPLAIN AST ("" when it only reads). The first line names its kind; a
// Literal right under it is an INTO OUTFILE file; a DESCRIBE of a table
// function (file, url, …) reads a file's or fetches a URL's schema, which
// readonly=1 allows.
func readingStatement(ast string) string {
	lines := strings.Split(strings.TrimRight(ast, "\n"), "\n")
	kind, _, _ := strings.Cut(lines[0], " ")
	switch {
	case kind == "SelectWithUnionQuery" || kind == "DescribeQuery" || kind == "Explain" || kind == "SHOW",
		strings.HasPrefix(kind, "Show"), strings.HasPrefix(kind, "Exists"):
	default:
		return fmt.Sprintf("ClickHouse parses this statement as %s; only SELECT (WITH, UNION, …), SHOW, DESCRIBE, EXISTS and EXPLAIN run here", kind)
	}
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, " Literal ") {
			return "INTO OUTFILE would write a file"
		}
		if kind == "DescribeQuery" && strings.HasPrefix(l, "  Function ") {
			return "DESCRIBE of a table function (file, url, …) reads outside the database; DESCRIBE a table or a SELECT"
		}
	}
	return ""
}

func (e *Embedded) Insert(ctx context.Context, table string, columns []string, format string, data []byte, token string) error {
	var q strings.Builder
	fmt.Fprintf(&q, "INSERT INTO %s (%s)", table, strings.Join(columns, ", "))
	if token != "" {
		// The token makes a retried insert a no-op in a table that
		// remembers tokens (events_raw). The second setting makes the
		// materialized views (sessions_mv) take the retried block anyway
		// and deduplicate it on their own: when the first attempt stored
		// the rows and then failed in a view, a retry dropped at the source
		// table would never reach the view. Its default has changed
		// between ClickHouse versions (0 on older servers), so say it.
		fmt.Fprintf(&q, " SETTINGS insert_deduplication_token = '%s', deduplicate_blocks_in_dependent_materialized_views = 1", escape(token))
	}
	fmt.Fprintf(&q, " FORMAT %s\n", format)
	query := make([]byte, 0, q.Len()+len(data))
	query = append(append(query, q.String()...), data...)
	_, err := e.run(ctx, e.write, query, "", nil)
	switch {
	case err == nil:
		return nil
	case refusedData(err):
		return fmt.Errorf("insert into %s: %w: %w", table, ErrBadData, err)
	}
	return fmt.Errorf("insert into %s: %w", table, err)
}

// dataErrors are ClickHouse's error codes for input it cannot take, raised
// while the rows are parsed or checked, before anything is written:
// CANNOT_PARSE_TEXT, CANNOT_PARSE_QUOTED_STRING,
// CANNOT_PARSE_INPUT_ASSERTION_FAILED, CANNOT_PARSE_DATE,
// CANNOT_PARSE_DATETIME, CANNOT_CONVERT_TYPE, CANNOT_PARSE_NUMBER,
// INCORRECT_DATA, TOO_LARGE_STRING_SIZE, VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE,
// CANNOT_PARSE_UUID, ILLEGAL_SYNTAX_FOR_DATA_TYPE,
// CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING, CANNOT_PARSE_BOOL, VIOLATED_CONSTRAINT.
var dataErrors = map[int]bool{6: true, 26: true, 27: true, 38: true, 41: true, 70: true, 72: true,
	117: true, 131: true, 321: true, 376: true, 377: true, 441: true, 467: true, 469: true}

var errorCode = regexp.MustCompile(`Code: (\d+)\.`)

// refusedData tells an error of ErrBadData's kind. One raised in a
// materialized view is not: the source table has stored the rows by then.
func refusedData(err error) bool {
	msg := err.Error()
	m := errorCode.FindStringSubmatch(msg)
	if m == nil || strings.Contains(msg, "while pushing to view") {
		return false
	}
	code, _ := strconv.Atoi(m[1])
	return dataErrors[code]
}

// run executes on c. chDB cannot interrupt a statement, so a cancelled
// context only stops one from starting.
func (e *Embedded) run(ctx context.Context, c *chdb.Conn, query []byte, format string, params Params) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	escaped := make(map[string]string, len(params))
	for k, v := range params {
		escaped[k] = paramText(v)
	}
	return c.Query(query, format, escaped)
}

func (e *Embedded) Close() error {
	for _, c := range e.all {
		c.Close()
	}
	return nil
}

// paramText is s as a query parameter's value, which chDB reads as
// ClickHouse's escaped text: a tab or newline would end it, a backslash
// start an escape.
func paramText(s string) string { return paramEscaper.Replace(s) }

var paramEscaper = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`, "\x00", `\0`)

// escape quotes s for a single-quoted ClickHouse string literal.
func escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)
}
