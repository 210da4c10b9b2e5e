package server

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"time"
	_ "time/tzdata" // explain's ?tz= works on hosts without zoneinfo

	"github.com/gofiber/fiber/v2"

	"github.com/calltrail/calltrail/gateway/calls"
	"github.com/calltrail/calltrail/gateway/sfrecord"
)

// secretSettings name where each provider's secret is configured, for the
// log line and the 401 answer when none is.
var secretSettings = map[string]string{
	calls.SourceCallRail: "--callrail-secret / CALLTRAIL_CALLRAIL_SECRET",
	calls.SourceCTM:      "--ctm-secret / CALLTRAIL_CTM_SECRET",
	calls.SourceInvoca:   "--invoca-token / CALLTRAIL_INVOCA_TOKEN",
}

// callRoutes are POST /v1/calls/{provider} (public: signed by the provider)
// and, behind the API token, /v1/tasks and the explain endpoint. The public
// ones must be registered before the token group.
func (s *Server) callRoutes(a fiber.Router) {
	a.Post("/v1/calls/invoca/:token", s.postCall)
	a.Post("/v1/calls/:provider", s.postCall)
}

func (s *Server) callAPIRoutes(api fiber.Router) {
	api.Post("/tasks", s.postTasks)
	api.Get("/calls/:task_id/explain", s.explainCall)
}

// postCall takes one provider webhook: verify the signature on the raw body,
// turn the provider's JSON into a Task, store it, answer 200. A retried or
// later delivery of the same call replaces the earlier one.
func (s *Server) postCall(c *fiber.Ctx) error {
	provider := c.Params("provider", calls.SourceInvoca)
	delivery := calls.Delivery{
		Provider:  provider,
		Body:      bytes.Clone(c.Request().Body()),
		PathToken: strings.Clone(c.Params("token")),
		Header:    func(name string) string { return strings.Clone(c.Get(name)) },
	}
	task, err := s.cfg.Calls.Receive(delivery)
	var auth *calls.AuthError
	var bad *sfrecord.BadRecord
	switch {
	case errors.Is(err, calls.ErrUnknownProvider):
		return c.Status(fiber.StatusNotFound).JSON(fiber.Map{"error": err.Error()})
	case errors.Is(err, calls.ErrNoSecret):
		s.cfg.Log.Warn("call refused: no secret configured for this provider",
			"provider", provider, "set", secretSettings[provider])
		return c.Status(fiber.StatusUnauthorized).JSON(fiber.Map{
			"error": provider + ": no secret is configured, so every delivery is refused; the operator sets " + secretSettings[provider]})
	case errors.As(err, &auth):
		s.cfg.Log.Warn("call refused: bad signature", "provider", provider, "reason", auth.Err.Error(), "ip", c.IP())
		return c.Status(fiber.StatusUnauthorized).JSON(fiber.Map{"error": auth.Error()})
	case errors.Is(err, calls.ErrNotACall):
		return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"stored": false, "reason": err.Error()})
	case errors.As(err, &bad):
		return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": bad.Reason})
	case err != nil:
		return err
	}
	saved, err := calls.Save(c.UserContext(), s.backend.Load().Store, []*calls.Task{task})
	if err != nil {
		s.cfg.Log.Error("call not stored", "task_id", task.TaskID, "err", err)
		return s.unavailable(c, "the call cannot be stored right now")
	}
	answer := fiber.Map{
		"task_id":   task.TaskID,
		"status":    map[bool]string{true: "created", false: "updated"}[saved.Created == 1],
		"call_time": task.CallTime.UTC().Format(time.RFC3339Nano),
		"uid":       task.UID,
		"explain":   "/v1/calls/" + url.PathEscape(task.TaskID) + "/explain",
	}
	switch {
	case task.BizibleID == "":
		answer["warning"] = "no visitor id (_biz_uid) in the call: it gets no touchpoint (verdict no_bizible_id); see docs/calls.md for the field the provider must fill"
	case task.UID == "":
		answer["warning"] = "the visitor id found in " + task.UIDSource + " is not a _biz_uid (32 lowercase hex characters): the call gets no touchpoint"
	}
	return c.JSON(answer)
}

// postTasks is POST /v1/tasks: one Salesforce Task record or an array of
// them. Valid records are stored even when others are rejected (400 with
// each rejected record's index and reason). `?source=csv` marks records that
// `calltrail import tasks` read from a CSV export.
func (s *Server) postTasks(c *fiber.Ctx) error {
	source, err := recordsSource(c, calls.SourceTasksAPI, calls.SourceCSV)
	if err != nil {
		return err
	}
	recs, err := sfrecord.DecodeRecords(c.Request().Body(), calls.Tasks)
	if err != nil {
		return refuseRecords(c, err)
	}
	tasks, rejected := calls.ParseTasks(recs, source, time.Now())
	saved, err := calls.Save(c.UserContext(), s.backend.Load().Store, tasks)
	if err != nil {
		s.cfg.Log.Error("tasks not stored", "tasks", len(tasks), "err", err)
		return s.unavailable(c, "the tasks cannot be stored right now")
	}
	return answerRecords(c, len(tasks), saved, rejected)
}

// explainCall is GET /v1/calls/{task_id}/explain[?tz=Europe/Amsterdam].
// task_id holds a colon (callrail:CAL…); it may come URL-escaped.
func (s *Server) explainCall(c *fiber.Ctx) error {
	id, err := url.PathUnescape(c.Params("task_id"))
	if err != nil || id == "" {
		return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": "task_id is not a valid URL path segment"})
	}
	loc := time.UTC
	if tz := c.Query("tz"); tz != "" {
		if loc, err = time.LoadLocation(tz); err != nil {
			return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": "tz must be an IANA time zone such as Europe/Amsterdam"})
		}
	}
	e, err := calls.Explain(c.UserContext(), s.backend.Load().Store, strings.Clone(id), loc)
	if errors.Is(err, calls.ErrNotFound) {
		return c.Status(fiber.StatusNotFound).JSON(fiber.Map{
			"error": "no call with task_id " + id + " (provider calls are {provider}:{call id}, e.g. callrail:CAL…; Tasks keep their Id)"})
	}
	if err != nil {
		return err
	}
	return c.JSON(e)
}
