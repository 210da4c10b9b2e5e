// calltrail.js: the CallTrail site script. See ../ARCHITECTURE.md.
// api.ts starts tracking when it loads (its page view goes 50 ms later, with
// whatever earlier pages left in the queue); spa.ts then watches the history.
import './api'
import './spa'
