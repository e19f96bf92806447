"""Real-name face verification (issue 3): the local provider's face engine, as a library.

A pure library - plain values in, plain values out; it imports nothing from the platform
(``app``, ``api``, ``sandbox``). The platform calls:

* ``kyc.settings.KycSettings.from_mapping(config)`` - thresholds and limits (``KYC_*``);
* ``kyc.engine.reference_encoding(photo_bytes, settings)`` - the reference face;
* ``kyc.liveness.ACTIONS`` / ``ACTION_PROMPTS`` - the challenge's actions and prompts;
* ``kyc.verify.verify_burst(frames, reference, actions, seen_hashes, settings)`` - the
  decision, with a reason code and a Chinese message;
* ``python -m kyc.match A B`` - the helpdesk's comparison tool.

``kyc.testing`` is for tests only. See docs/kyc.md.
"""
