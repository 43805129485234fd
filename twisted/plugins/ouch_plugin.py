"""twistd dropin: `twistd ouch` runs the ouchsim OUCH exchange simulator."""

from twisted.application.service import ServiceMaker

ouch = ServiceMaker("ouchsim", "ouchsim.tap", "OUCH exchange simulator (SoupBinTCP 4.0)", "ouch")
