package sfrecord

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Poster sends one batch (a JSON array of records) to a gateway.
type Poster func(ctx context.Context, batch []byte) (Answer, error)

// PostHTTP posts batches to a running gateway's records endpoint, path with
// its query (e.g. "/v1/tasks?source=csv"). A 503 or a lost connection is
// retried (a batch sent twice stores each record once: the same Id replaces
// itself).
func PostHTTP(baseURL, path, token string, client *http.Client) Poster {
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Minute}
	}
	endpoint := strings.TrimRight(baseURL, "/") + path
	return func(ctx context.Context, batch []byte) (Answer, error) {
		var lastErr error
		for attempt := 0; attempt < 4; attempt++ {
			if attempt > 0 {
				select {
				case <-ctx.Done():
					return Answer{}, ctx.Err()
				case <-time.After(time.Duration(attempt) * time.Second):
				}
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(batch))
			if err != nil {
				return Answer{}, err
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := client.Do(req)
			if err != nil {
				lastErr = fmt.Errorf("%w (is `calltrail serve` running at %s?)", err, baseURL)
				continue
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				lastErr = err
				continue
			}
			var a Answer
			switch {
			case resp.StatusCode == http.StatusServiceUnavailable:
				lastErr = fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(body))
				continue
			case resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusBadRequest:
				return Answer{}, fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(body))
			case json.Unmarshal(body, &a) != nil:
				return Answer{}, fmt.Errorf("%s: unexpected answer %q", resp.Status, Clip(string(body), 200))
			case a.Error != "":
				return Answer{}, errors.New(a.Error)
			}
			return a, nil
		}
		return Answer{}, lastErr
	}
}

// ImportOptions tune ImportCSV.
type ImportOptions struct {
	BatchRows  int       // rows per request (default 5,000)
	BatchBytes int       // bytes per request, at most (default 4 MiB; the gateway takes 8 with the API token)
	Progress   io.Writer // a line per batch; nil for none
	Rejected   io.Writer // a line per rejected row, with its reason; nil for none
}

// ImportStats count an import.
type ImportStats struct {
	Rows     int // data rows read
	Created  int // records new to CallTrail
	Updated  int // records that replaced an earlier version
	Rejected int // rows not stored (each reported with its reason)
}

// ImportCSV streams a Salesforce Data Loader export of obj's records (a
// header of API field names, then one record per row) to post, in batches:
// memory stays bounded whatever the file's size. A row that cannot be read,
// or that the gateway rejects, is counted and reported with its line and
// reason; the others are stored. An error stops the import (what was sent
// stays stored).
func ImportCSV(ctx context.Context, r io.Reader, obj Object, post Poster, o ImportOptions) (ImportStats, error) {
	if o.BatchRows <= 0 {
		o.BatchRows = 5000
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = 4 << 20
	}
	var st ImportStats
	br := bufio.NewReaderSize(r, 1<<20)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\ufeff" {
		br.Discard(3) // a byte-order mark (Excel, some exports)
	}
	cr := csv.NewReader(br)
	header, err := cr.Read()
	if err == io.EOF {
		return st, fmt.Errorf("the file is empty: expected a header row of Salesforce %s field names (%s, …)", obj.Name, obj.Example)
	}
	if err != nil {
		return st, fmt.Errorf("header row: %w", err)
	}
	hasID := false
	for i, h := range header {
		h = strings.TrimSpace(h)
		if h == "" {
			return st, fmt.Errorf("header row: column %d has no name", i+1)
		}
		header[i] = h
		hasID = hasID || strings.EqualFold(h, FieldID)
	}
	if !hasID {
		return st, fmt.Errorf("header row: no Id column (a Salesforce Data Loader export of %s records has one)", obj.Name)
	}

	type row struct {
		line int
		id   string
	}
	var (
		batch = bytes.NewBuffer(nil)
		rows  []row
	)
	reject := func(line int, id, reason string) {
		st.Rejected++
		if o.Rejected != nil {
			if id != "" {
				fmt.Fprintf(o.Rejected, "line %d (Id %s): %s\n", line, id, reason)
			} else {
				fmt.Fprintf(o.Rejected, "line %d: %s\n", line, reason)
			}
		}
	}
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		batch.WriteByte(']')
		a, err := post(ctx, batch.Bytes())
		if err != nil {
			return fmt.Errorf("rows on lines %d to %d: %w", rows[0].line, rows[len(rows)-1].line, err)
		}
		st.Created += a.Created
		st.Updated += a.Updated
		for _, rj := range a.Rejected {
			if rj.Index >= 0 && rj.Index < len(rows) {
				reject(rows[rj.Index].line, rows[rj.Index].id, rj.Reason)
			} else {
				reject(0, rj.ID, rj.Reason)
			}
		}
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "%d rows read: %d imported, %d updated, %d rejected\n", st.Rows, st.Created, st.Updated, st.Rejected)
		}
		batch.Reset()
		rows = rows[:0]
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return st, err
			}
			st.Rows++
			if errors.Is(err, csv.ErrFieldCount) {
				reject(pe.StartLine, "", fmt.Sprintf("%d fields, the header has %d", len(rec), len(header)))
			} else {
				reject(pe.StartLine, "", "not valid CSV: "+pe.Err.Error())
			}
			continue
		}
		st.Rows++
		// FieldPos only after a good read: after an error the record may be
		// empty, and FieldPos panics.
		line, _ := cr.FieldPos(0)
		m := make(map[string]string, len(rec))
		var id string
		for i, v := range rec {
			if v == "" {
				continue // Data Loader writes "" for an empty field
			}
			m[header[i]] = v
			if strings.EqualFold(header[i], FieldID) {
				id = v
			}
		}
		b, err := json.Marshal(m)
		if err != nil {
			reject(line, id, err.Error())
			continue
		}
		// A request is at most BatchBytes, brackets and commas included:
		// the gateway refuses a larger one unread (413).
		if len(b)+2 > o.BatchBytes {
			reject(line, id, fmt.Sprintf("the row is %d bytes, more than one request may carry (%d)", len(b), o.BatchBytes))
			continue
		}
		if len(rows) > 0 && batch.Len()+1+len(b)+1 > o.BatchBytes {
			if err := flush(); err != nil {
				return st, err
			}
		}
		if len(rows) == 0 {
			batch.WriteByte('[')
		} else {
			batch.WriteByte(',')
		}
		batch.Write(b)
		rows = append(rows, row{line, id})
		if len(rows) >= o.BatchRows {
			if err := flush(); err != nil {
				return st, err
			}
		}
	}
	return st, flush()
}
