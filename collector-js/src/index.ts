// calltrail.js: the CallTrail site script. See ../ARCHITECTURE.md.
import { init } from './api'
import './spa'
import { send } from './transport'

init()
// Events left by an earlier page (offline, gateway down) go now, even when
// this page records nothing new.
send()
