package calls

import (
	"context"

	"github.com/calltrail/calltrail/gateway/sfrecord"
	"github.com/calltrail/calltrail/gateway/store"
)

var callTasks = sfrecord.Table{Name: "call_tasks", IDColumn: "task_id", Columns: Columns, Noun: "call"}

// Save stores tasks in call_tasks in one insert. A task whose id is already
// stored (or appears earlier in the same batch) counts as updated; the
// highest version wins when the calls are read (FINAL).
func Save(ctx context.Context, st store.Store, tasks []*Task) (sfrecord.Saved, error) {
	return sfrecord.Save(ctx, st, callTasks, tasks, func(t *Task) string { return t.TaskID }, (*Task).row)
}
