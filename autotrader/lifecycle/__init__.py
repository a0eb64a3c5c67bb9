"""The lifecycle: owners' fees and payment verifiers, auditions, public profiles and
moderation, the promotion queue and arena slots, one state machine and its timeline."""
