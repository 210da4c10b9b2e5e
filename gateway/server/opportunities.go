package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/calltrail/calltrail/gateway/opportunities"
	"github.com/calltrail/calltrail/gateway/sfrecord"
)

// postOpportunities is POST /v1/opportunities: one Salesforce Opportunity
// record or an array of them, answered like /v1/tasks. Valid records are
// stored even when others are rejected (400 with each rejected record's
// index and reason). `?source=csv` marks records that `calltrail import
// opportunities` read from a CSV export.
func (s *Server) postOpportunities(c *fiber.Ctx) error {
	source, err := recordsSource(c, opportunities.SourceAPI, opportunities.SourceCSV)
	if err != nil {
		return err
	}
	recs, err := sfrecord.DecodeRecords(c.Request().Body(), opportunities.Object)
	if err != nil {
		return refuseRecords(c, err)
	}
	opps, rejected := opportunities.ParseAll(recs, source, time.Now(), opportunities.Config{StoreEmails: s.cfg.StoreEmails})
	saved, err := opportunities.Save(c.UserContext(), s.backend.Load().Store, opps)
	if err != nil {
		s.cfg.Log.Error("opportunities not stored", "opportunities", len(opps), "err", err)
		return s.unavailable(c, "the opportunities cannot be stored right now")
	}
	return answerRecords(c, len(opps), saved, rejected)
}
