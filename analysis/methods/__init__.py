"""Layer 2, the methods: cost-effectiveness (``cea``: ICER with dominance, net benefit) and uncertainty
(``uncertainty``: bootstrap, acceptability curve, EVPI, Monte Carlo error). They know nothing of this report
and import only the data layer."""
