package sim

import (
	"fmt"
	"maps"
	"slices"

	"github.com/opfsm/opfsm/maintainer"
	ops "github.com/opfsm/opfsm/operators"
)

// maintainerCrash: the next maintainer takes epoch + 1, starts empty and asks every live
// node for a bootstrap answer on its own streams; statuses to the dead one are gone. Its
// schema snapshot is the one at its start checkpoint: late DDL is not in it, and it
// replays that DDL after recovery.
func (c *Cluster) maintainerCrash(a Action) error {
	if c.Epoch() >= c.cfg.Limits.MaxEpoch {
		return c.notEnabled(a)
	}
	e := c.Epoch() + 1
	tables := slices.Clone(c.tables)
	for _, d := range c.late {
		if d.Name == "DropTable" {
			tables = append(tables, d.Table)
		} else {
			tables = slices.DeleteFunc(tables, func(t ops.TableID) bool { return t == d.Table })
		}
	}
	slices.Sort(tables)
	m, err := maintainer.New(c.maintainerConfig(e, c.liveNodes(), tables))
	if err != nil {
		return err
	}
	c.cfg.Bugs.maintainer(m)
	for _, d := range c.late {
		if d.Name == "DropTable" {
			m.DropTable(d.Table)
		} else {
			// A new task: the old maintainer's dispatcher d.ID, if it was created, is not in
			// the snapshot's schema and is being cleaned up.
			_ = m.CreateTable(d.Table, ops.DispatcherID(fmt.Sprintf("%s-r%d", d.ID, e)), 0) // booting: queued
		}
	}
	c.m, c.sharedM, c.late, c.removed, c.fpM = m, false, nil, nil, nil
	c.writeNet().DropStatuses()
	return nil
}

// nodeCrash: node n dies with its dispatchers, journals and streams; the maintainer hears
// of it at once (a booting one stops waiting for its answer).
func (c *Cluster) nodeCrash(a Action) error {
	if !c.alive[a.Node] || c.crash >= c.cfg.Limits.MaxCrash || len(c.liveNodes()) < 2 {
		return c.notEnabled(a)
	}
	c.crash++
	c.alive = maps.Clone(c.alive) // shared with clones (Clone)
	c.alive[a.Node] = false
	c.writeNet().NodeGone(a.Node)
	c.writeMaintainer().NodeRemoved(a.Node)
	return nil
}
