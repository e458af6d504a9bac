package sim

import (
	"fmt"
	"maps"
	"slices"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// Apply performs action a. An action that is not enabled returns an error wrapping
// ErrNotEnabled or ErrNoMessage and changes nothing the caller can observe.
func (c *Cluster) Apply(a Action) error {
	err := c.apply(a)
	c.flush()
	return err
}

func (c *Cluster) apply(a Action) error {
	switch a.Name {
	case "DMDeliver", "DMDeliverDup":
		return c.deliver(a)
	case "Lose":
		if c.loss >= c.cfg.Limits.MaxLoss {
			return c.notEnabled(a)
		}
		if err := c.writeNet().Lose(Stream{a.Node, a.Epoch}, a.Index); err != nil {
			return err
		}
		c.loss++
		return nil
	case "DMPrepareFail":
		if c.fail >= c.cfg.Limits.MaxFail {
			return c.notEnabled(a)
		}
		if err := c.local(a); err != nil {
			return err
		}
		c.fail++
		return nil
	case "DMPrepared", "DMCommit", "DMAbortMerge", "DMWorking", "DMSweep", "DMJournalCleanup":
		return c.local(a)
	case "DMHeartbeat":
		if !c.cfg.Heartbeat || !c.alive[a.Node] {
			return c.notEnabled(a)
		}
		c.writeNode(a.Node).Tick()
		c.drain(a.Node)
		return nil
	case "MaintainerCrash":
		return c.maintainerCrash(a)
	case "NodeCrash":
		return c.nodeCrash(a)
	case "Recover":
		if err := c.writeMaintainer().Recover(); err != nil {
			return fmt.Errorf("sim: %w: %w", ErrNotEnabled, err)
		}
		return nil
	}
	if c.m.Booting() {
		return c.notEnabled(a)
	}
	switch a.Name {
	case "MaintainerStatus":
		rep, err := c.writeNet().NextStatus(a.Node)
		if err != nil {
			return err
		}
		return c.writeMaintainer().StepStatus(protocol.StatusReport{Changefeed: c.cfg.Changefeed, Node: a.Node, Epoch: rep.Epoch, Statuses: []ops.Status{rep.Status}})
	case "Resend":
		if !c.writeMaintainer().Resend(a.ID) {
			return c.notEnabled(a)
		}
		return nil
	case "ScheduleAbsent":
		return c.writeMaintainer().Add(a.ID, a.Node)
	}
	if c.opsLeft <= 0 {
		return c.notEnabled(a)
	}
	var err error
	switch a.Name {
	case "StartMove":
		err = c.writeMaintainer().Move(a.ID, a.Node)
	case "StartSplit":
		t, ok := c.m.Controller().Task(a.ID)
		if !ok {
			return c.notEnabled(a)
		}
		halves, ok := Halves(t.Span)
		if a.Key != "" {
			halves, ok = cut(t.Span, a.Key)
		}
		if !ok {
			return c.notEnabled(a)
		}
		err = c.writeMaintainer().Split(a.ID, halves, nil)
	case "StartMerge":
		if len(a.IDs) != 2 {
			return c.notEnabled(a)
		}
		merged := a.ID
		if merged == "" {
			merged = mergedID(a.IDs[0], a.IDs[1])
		}
		err = c.writeMaintainer().Merge(a.IDs, merged)
	case "StartRemove":
		err = c.startRemove(a)
	case "CreateTable":
		err = c.createTable(a)
	case "DropTable":
		i := slices.Index(c.tables, a.Table)
		if i < 0 {
			return c.notEnabled(a)
		}
		switch a.DDL {
		case "", "late":
			c.writeMaintainer().DropTable(a.Table)
		case "unseen":
		default:
			return c.notEnabled(a)
		}
		c.tables = slices.Delete(slices.Clone(c.tables), i, i+1)     // shared with clones (Clone)
		dropped := make(map[ops.TableID]ops.Epoch, len(c.dropped)+1) // shared with clones (Clone)
		maps.Copy(dropped, c.dropped)
		dropped[a.Table] = c.Epoch()
		c.dropped = dropped
		if a.DDL == "late" {
			c.late = append(slices.Clip(c.late), a) // shared with clones (Clone)
		}
	default:
		return fmt.Errorf("sim: %w: unknown action %q", ErrNotEnabled, a.Name)
	}
	if err == nil {
		c.opsLeft--
	}
	return err
}

func (c *Cluster) notEnabled(a Action) error {
	return fmt.Errorf("sim: %w: %s", ErrNotEnabled, a)
}

// startRemove starts a standalone remove of task a.ID; its span stays uncovered once the
// remove is done, until the next maintainer's recovery covers it again.
func (c *Cluster) startRemove(a Action) error {
	t, ok := c.m.Controller().Task(a.ID)
	if err := c.writeMaintainer().Remove(a.ID); err != nil || !ok {
		return err
	}
	if c.removed == nil {
		c.removed = map[ops.TableID][]ops.Span{}
	}
	c.removed[t.Span.Table] = append(c.removed[t.Span.Table], t.Span)
	return nil
}

// createTable: CREATE TABLE reaches the running maintainer, which adds an Absent task a.ID
// for the table's whole key range (a scenario operation; the spec's world has one table).
func (c *Cluster) createTable(a Action) error {
	if slices.Contains(c.tables, a.Table) || a.ID == "" || (a.DDL != "" && a.DDL != "late") {
		return c.notEnabled(a)
	}
	if err := c.writeMaintainer().CreateTable(a.Table, a.ID, 0); err != nil {
		return fmt.Errorf("sim: %s: %w", a, err)
	}
	c.tables = append(slices.Clip(c.tables), a.Table) // shared with clones (Clone)
	slices.Sort(c.tables)
	if a.DDL == "late" {
		c.late = append(slices.Clip(c.late), a)
	}
	return nil
}
