package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/calltrail/calltrail/gateway/sfrecord"
)

// Salesforce-style records endpoints (POST /v1/tasks, /v1/opportunities)
// answer alike: one object or an array; the valid records are stored even
// when others are rejected.

// recordsSource reads ?source=: the endpoint's own source (the default), or
// csv for records `calltrail import` read from a CSV export. Any other value
// is a 400.
func recordsSource(c *fiber.Ctx, api, csv string) (string, error) {
	switch c.Query("source") {
	case "", api:
		return api, nil
	case csv:
		return csv, nil
	}
	return "", fiber.NewError(fiber.StatusBadRequest, "source must be "+api+" or "+csv)
}

// refuseRecords answers a body that is not records at all (400).
func refuseRecords(c *fiber.Ctx, err error) error {
	return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": err.Error(), "accepted": 0, "rejected": []sfrecord.Rejection{}})
}

// answerRecords is 200 when every record was stored, else 400 with each
// rejected record's index, Id and reason.
func answerRecords(c *fiber.Ctx, accepted int, saved sfrecord.Saved, rejected []sfrecord.Rejection) error {
	status := fiber.StatusOK
	if len(rejected) > 0 {
		status = fiber.StatusBadRequest
	}
	if rejected == nil {
		rejected = []sfrecord.Rejection{}
	}
	return c.Status(status).JSON(sfrecord.Answer{
		Accepted: accepted, Created: saved.Created, Updated: saved.Updated, Rejected: rejected,
	})
}
