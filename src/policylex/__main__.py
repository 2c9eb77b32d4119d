from policylex.cli import main

main()
